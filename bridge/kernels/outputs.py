"""Folding output operations (see execution.py) into nbformat outputs lists."""

from __future__ import annotations

from typing import Any

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
