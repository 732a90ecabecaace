"""OutputBatcher on its own: merging, clearing, the rate timer and the slowdown.

The batcher reads its clock through `time.monotonic()` of its module; the tests put a
clock they move by hand in its place, so whether an op goes out at once never depends
on how fast a loaded machine runs the test. The timer itself runs on the real loop.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from bridge.kernels import batching
from bridge.kernels.batching import BRISK_BATCHES, SLOWEST_INTERVAL, OutputBatcher

Batch = list[dict[str, Any]]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(batching, "time", SimpleNamespace(monotonic=clock.monotonic))
    return clock


def text(chunk: str, name: str = "stdout") -> dict[str, Any]:
    return {"op": "appendText", "name": name, "text": chunk}


def display(data: str) -> dict[str, Any]:
    return {"op": "append", "output": {"output_type": "display_data",
                                       "data": {"text/plain": data}, "metadata": {}}}


def replace(display_id: str, data: str) -> dict[str, Any]:
    return {"op": "replace", "displayId": display_id,
            "output": {"output_type": "display_data", "data": {"text/plain": data},
                       "metadata": {}}}


async def test_text_of_one_stream_merges_and_other_ops_split_it(clock: Clock) -> None:
    batches: list[Batch] = []
    batcher = OutputBatcher(batches.append)
    first = text("a")
    batcher.add(first)
    assert batches == [[text("a")]]  # the first op goes out at once
    given = text("b")
    for op in (given, text("c"), text("!", "stderr"), text("d", "stderr"), text("e"),
               display("x"), text("f"), text("g")):
        batcher.add(op)
    assert len(batches) == 1  # the clock has not moved: the rest waits
    batcher.close()
    assert batches[1] == [text("bc"), text("!d", "stderr"), text("e"), display("x"),
                          text("fg")]
    # merging works on the batcher's copy, never on the caller's op
    assert first == text("a") and given == text("b")


async def test_a_clear_drops_the_appends_before_it_but_keeps_replaces(clock: Clock) -> None:
    batches: list[Batch] = []
    batcher = OutputBatcher(batches.append)
    batcher.add(display("sent already"))
    for op in (text("moot"), replace("d1", "new"), display("moot too"), text("moot 2"),
               {"op": "clear"}, text("after"), replace("d2", "kept"), display("kept"),
               {"op": "clear"}, text("last")):
        batcher.add(op)
    batcher.close()
    assert batches == [
        [display("sent already")],  # what went out before a clear is the client's to clear
        # a second clear makes the first one moot too; replaces touch other cells' outputs
        [replace("d1", "new"), replace("d2", "kept"), {"op": "clear"}, text("last")],
    ]


async def test_the_timer_flushes_pending_output_with_no_further_op(clock: Clock) -> None:
    batches: list[Batch] = []
    arrived = asyncio.Event()

    def send(batch: Batch) -> None:
        batches.append(batch)
        arrived.set()

    batcher = OutputBatcher(send, rate=10)
    batcher.add(text("now\n"))
    assert batches == [[text("now\n")]]
    arrived.clear()
    batcher.add(text("later\n"))
    batcher.add(text("and more\n"))
    assert len(batches) == 1
    # nothing else is added: only the timer can send this (the deadline is no speed check)
    await asyncio.wait_for(arrived.wait(), 30)
    assert batches == [[text("now\n")], [text("later\nand more\n")]]
    batcher.close()
    assert len(batches) == 2  # nothing left over, and no empty batch


async def test_close_sends_what_waits_and_nothing_when_nothing_does(clock: Clock) -> None:
    batches: list[Batch] = []
    batcher = OutputBatcher(batches.append)
    batcher.close()
    assert batches == [] and batcher.batches_sent == 0
    batcher.add(text("1"))
    batcher.add(text("2"))
    batcher.add({"op": "clear"})
    batcher.add(text("3"))
    assert batches == [[text("1")]]
    batcher.close()
    assert batches == [[text("1")], [{"op": "clear"}, text("3")]]
    batcher.close()
    assert len(batches) == 2 and batcher.batches_sent == 2


def shortest_gap(clock: Clock, batches_before: int, rate: float = 60) -> float:
    """The shortest pause after a batch (to the millisecond) that lets the next op go
    out at once, once `batches_before` batches went out; each probe on a new batcher."""

    def goes_out_at_once(gap_ms: int) -> bool:
        batches: list[Batch] = []
        batcher = OutputBatcher(batches.append, rate=rate)
        for sent in range(batches_before):
            clock.now += 10  # a quiet spell: each of these goes out at once
            batcher.add(text("x"))
            assert len(batches) == sent + 1
        clock.now += gap_ms / 1000
        batcher.add(text("y"))
        at_once = len(batches) == batches_before + 1
        batcher.close()  # a deferred op must not wait on the real loop's timer
        return at_once

    low, high = 0, 60_000  # the op waits after `low` ms, goes out at once after `high`
    assert goes_out_at_once(high) and not goes_out_at_once(low)
    while high - low > 1:
        middle = (low + high) // 2
        if goes_out_at_once(middle):
            high = middle
        else:
            low = middle
    return high / 1000


async def test_a_long_run_gets_batches_ever_less_often(clock: Clock) -> None:
    brisk = 1 / 60
    # the first batches keep to the rate
    for batches_before in (1, 2, BRISK_BATCHES // 2, BRISK_BATCHES - 1):
        assert shortest_gap(clock, batches_before) == pytest.approx(brisk, abs=0.0015)
    # then they come ever less often, down to one a second and no slower
    gaps = [shortest_gap(clock, batches_before) for batches_before in
            (BRISK_BATCHES, BRISK_BATCHES + 10, 50, 80, 100, 150, 400)]
    assert gaps[0] > brisk * 2, gaps
    assert gaps == sorted(gaps) and gaps[0] < gaps[-1], gaps
    assert gaps[-1] == pytest.approx(SLOWEST_INTERVAL, abs=0.0015)
    assert max(gaps) <= SLOWEST_INTERVAL + 0.0015


async def test_a_slow_rate_is_never_made_faster(clock: Clock) -> None:
    # at 2 batches a second the slowdown has nothing to add until it passes 0.5 s
    assert shortest_gap(clock, 1, rate=2) == pytest.approx(0.5, abs=0.0015)
    assert shortest_gap(clock, BRISK_BATCHES, rate=2) == pytest.approx(0.5, abs=0.0015)
    assert shortest_gap(clock, 300, rate=2) == pytest.approx(SLOWEST_INTERVAL, abs=0.0015)
