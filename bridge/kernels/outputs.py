"""Jupyter output messages -> nbformat outputs, and folding output operations (see
execution.py) into nbformat outputs lists."""

from __future__ import annotations

from typing import Any

from nbformat.v4 import output_from_msg

DisplayIndex = dict[str, list[dict[str, Any]]]
"""displayId -> the output dicts appended with it, in every cell of one notebook."""


def apply_output_op(outputs: list[dict[str, Any]], op: dict[str, Any],
                    displays: DisplayIndex | None = None) -> None:
    """Fold one output operation into ``outputs`` (one cell's nbformat outputs).

    Pass one ``displays`` dict per notebook so a ``replace`` reaches the outputs of every
    cell that showed that display, earlier executions included. Without it a ``replace``
    reaches the outputs of this list appended with the display id in the same call chain
    only if they were recorded, i.e. never: headless runners should always pass it.
    """
    kind = op.get("op")
    if kind == "appendText":
        name, text = op["name"], op["text"]
        last = outputs[-1] if outputs else None
        if last is not None and last.get("output_type") == "stream" \
                and last.get("name") == name:
            last["text"] = _joined(last["text"]) + text
        else:
            outputs.append({"output_type": "stream", "name": name, "text": text})
    elif kind == "append":
        output = op["output"]
        outputs.append(output)
        display_id = op.get("displayId")
        if display_id and displays is not None:
            displays.setdefault(display_id, []).append(output)
    elif kind == "replace":
        if displays is None:
            return
        new = op["output"]
        for shown in displays.get(op["displayId"], []):
            # the output keeps its type (an execute_result stays one): only content changes
            shown["data"] = new.get("data", {})
            shown["metadata"] = new.get("metadata", {})
    elif kind == "clear":
        outputs.clear()
    else:
        raise ValueError(f"unknown output operation {kind!r}")


def _joined(text: str | list[str]) -> str:
    return text if isinstance(text, str) else "".join(text)


def output_from_message(msg: dict[str, Any]) -> dict[str, Any]:
    """nbformat.v4.output_from_msg, without validating each output against the schema.

    The validation costs a large share of a `1+1` round trip and would drop an output
    a kernel got slightly wrong. The result equals nbformat's for every
    output message (tests/kernels/test_kernel_outputs.py checks); other kinds go to it.
    """
    kind = msg["header"]["msg_type"]
    content = msg["content"]
    if kind in ("execute_result", "display_data"):
        output = {"output_type": kind, "metadata": content.get("metadata", {}),
                  "data": content.get("data", {})}
        if kind == "execute_result":
            output["execution_count"] = content.get("execution_count")
        return output
    if kind == "error":
        return {"output_type": "error", "ename": content.get("ename", ""),
                "evalue": content.get("evalue", ""),
                "traceback": content.get("traceback", [])}
    return dict(output_from_msg(msg))  # type: ignore[no-untyped-call]
