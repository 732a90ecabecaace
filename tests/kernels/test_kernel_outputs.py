"""Folding output ops into nbformat outputs, and batching them into notifications."""

from __future__ import annotations

import asyncio
from typing import Any

import nbformat
import pytest

from bridge.kernels.batching import OutputBatcher
from bridge.kernels.outputs import DisplayIndex, apply_output_op, output_from_message


def display(text: str) -> dict[str, Any]:
    return {"output_type": "display_data", "data": {"text/plain": text}, "metadata": {}}


def test_text_merges_into_the_last_stream_of_the_same_name() -> None:
    outputs: list[dict[str, Any]] = []
    for op in [{"op": "appendText", "name": "stdout", "text": "a"},
               {"op": "appendText", "name": "stdout", "text": "b\n"},
               {"op": "appendText", "name": "stderr", "text": "e\n"},
               {"op": "appendText", "name": "stdout", "text": "c\n"}]:
        apply_output_op(outputs, op)
    assert outputs == [
        {"output_type": "stream", "name": "stdout", "text": "ab\n"},
        {"output_type": "stream", "name": "stderr", "text": "e\n"},
        {"output_type": "stream", "name": "stdout", "text": "c\n"},
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=outputs)])
    nbformat.validate(notebook)


def test_text_merges_into_a_stream_read_from_a_file_as_lines() -> None:
    outputs = [{"output_type": "stream", "name": "stdout", "text": ["a\n", "b\n"]}]
    apply_output_op(outputs, {"op": "appendText", "name": "stdout", "text": "c\n"})
    assert outputs[0]["text"] == "a\nb\nc\n"


def test_replace_reaches_every_cell_that_shows_the_display() -> None:
    displays: DisplayIndex = {}
    first: list[dict[str, Any]] = []
    second: list[dict[str, Any]] = []
    apply_output_op(first, {"op": "append", "output": display("0%"), "displayId": "p"},
                    displays)
    apply_output_op(second, {"op": "append", "output": display("0%"), "displayId": "p"},
                    displays)
    apply_output_op(second, {"op": "append", "output": display("other")}, displays)
    apply_output_op(second, {"op": "replace", "displayId": "p", "output": display("100%")},
                    displays)
    assert first == [display("100%")]
    assert second == [display("100%"), display("other")]


def test_replace_keeps_an_execute_result_an_execute_result() -> None:
    displays: DisplayIndex = {}
    outputs: list[dict[str, Any]] = []
    result = {"output_type": "execute_result", "execution_count": 3,
              "data": {"text/plain": "old"}, "metadata": {}}
    apply_output_op(outputs, {"op": "append", "output": result, "displayId": "d"}, displays)
    apply_output_op(outputs, {"op": "replace", "displayId": "d", "output": display("new")},
                    displays)
    assert outputs == [{"output_type": "execute_result", "execution_count": 3,
                        "data": {"text/plain": "new"}, "metadata": {}}]


def test_clear_empties_the_cell() -> None:
    outputs = [display("x")]
    apply_output_op(outputs, {"op": "clear"})
    assert outputs == []


def test_unknown_op_is_named() -> None:
    with pytest.raises(ValueError, match="'explode'"):
        apply_output_op([], {"op": "explode"})


async def test_batcher_sends_the_first_op_at_once_and_merges_the_rest() -> None:
    batches: list[list[dict[str, Any]]] = []
    batcher = OutputBatcher(batches.append, rate=10)
    batcher.add({"op": "appendText", "name": "stdout", "text": "first\n"})
    assert batches == [[{"op": "appendText", "name": "stdout", "text": "first\n"}]]
    for i in range(1000):
        batcher.add({"op": "appendText", "name": "stdout", "text": f"{i}\n"})
    batcher.add({"op": "append", "output": display("d")})
    batcher.add({"op": "appendText", "name": "stdout", "text": "last\n"})
    assert len(batches) == 1  # the rest waits for the timer
    await asyncio.sleep(0.3)  # the timer flushes without any further op arriving
    assert len(batches) == 2
    assert batches[1] == [
        {"op": "appendText", "name": "stdout", "text": "".join(f"{i}\n" for i in range(1000))},
        {"op": "append", "output": display("d")},
        {"op": "appendText", "name": "stdout", "text": "last\n"},
    ]
    batcher.close()
    assert len(batches) == 2


async def test_batcher_drops_appends_a_clear_makes_moot_but_keeps_replaces() -> None:
    batches: list[list[dict[str, Any]]] = []
    batcher = OutputBatcher(batches.append, rate=10)
    batcher.add({"op": "appendText", "name": "stdout", "text": "shown\n"})
    batcher.add({"op": "appendText", "name": "stdout", "text": "moot\n"})
    batcher.add({"op": "replace", "displayId": "x", "output": display("y")})
    batcher.add({"op": "append", "output": display("moot too")})
    batcher.add({"op": "clear"})
    batcher.add({"op": "appendText", "name": "stdout", "text": "kept\n"})
    batcher.close()
    assert batches[1] == [
        {"op": "replace", "displayId": "x", "output": display("y")},
        {"op": "clear"},
        {"op": "appendText", "name": "stdout", "text": "kept\n"},
    ]
    # folding what was sent gives what folding everything would have given
    sent: list[dict[str, Any]] = [display("from before")]
    for batch in batches:
        for op in batch:
            apply_output_op(sent, op)
    assert sent == [{"output_type": "stream", "name": "stdout", "text": "kept\n"}]


OUTPUT_MESSAGES = [
    ("execute_result", {"execution_count": 7, "data": {"text/plain": "2"}, "metadata": {}}),
    ("execute_result", {"execution_count": 1, "metadata": {"isolated": True},
                        "data": {"text/plain": "<Figure>", "image/png": "iVBORw0KGgo=",
                                 "application/json": {"a": [1, 2, {"b": None}]}}}),
    ("display_data", {"data": {"text/html": "<b>x</b>", "text/plain": "x"},
                      "metadata": {"image/png": {"width": 10, "height": 20}},
                      "transient": {"display_id": "abc"}}),
    ("display_data", {"data": {}, "metadata": {}}),
    ("error", {"ename": "ValueError", "evalue": "bad", "traceback": ["line 1", "line 2"]}),
    ("error", {"ename": "KeyboardInterrupt", "evalue": "", "traceback": []}),
]


@pytest.mark.parametrize("kind, content", OUTPUT_MESSAGES)
def test_output_from_message_equals_nbformats(kind: str, content: dict[str, Any]) -> None:
    msg = {"header": {"msg_type": kind}, "content": content}
    assert output_from_message(msg) == nbformat.v4.output_from_msg(msg)


def test_non_output_messages_go_to_nbformat() -> None:
    with pytest.raises(ValueError, match="status"):
        output_from_message({"header": {"msg_type": "status"}, "content": {}})


async def test_a_long_spewing_run_gets_fewer_batches() -> None:
    batches: list[list[dict[str, Any]]] = []
    batcher = OutputBatcher(batches.append, rate=1000)
    loop = asyncio.get_running_loop()
    until = loop.time() + 1.5
    lines = 0
    while loop.time() < until:
        batcher.add({"op": "appendText", "name": "stdout", "text": f"{lines}\n"})
        lines += 1
        await asyncio.sleep(0.002)
    batcher.close()
    # at a steady 1000 a second this would be ~1500 batches; it backs off after 20
    assert len(batches) < 150, len(batches)
    text = "".join(op["text"] for batch in batches for op in batch)
    assert text == "".join(f"{i}\n" for i in range(lines))
