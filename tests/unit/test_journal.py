"""The kernel host's journal: executions folded from Jupyter messages, numbered, and kept
within their bounds with a visible marker."""

from __future__ import annotations

import itertools
from typing import Any

from bridge.kernels.host.journal import Journal

_ids = itertools.count(1)


class NoChannels:
    """The journal only follows; it never sends."""

    def retire(self, msg_id: str) -> None: ...


def request(cell: str) -> dict[str, Any]:
    return {"header": {"msg_id": f"req-{next(_ids)}", "msg_type": "execute_request"},
            "metadata": {"cellId": cell, "nbbridge": {"executionId": f"e-{cell}"}},
            "content": {"code": "..."}}


def reply_to(req: dict[str, Any], msg_type: str, content: dict[str, Any]) -> dict[str, Any]:
    return {"header": {"msg_id": f"m-{next(_ids)}", "msg_type": msg_type},
            "msg_type": msg_type, "parent_header": req["header"], "content": content}


class Feed:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.seq = 0

    def begin(self, cell: str) -> dict[str, Any]:
        self.seq += 1
        req = request(cell)
        self.journal.begin(req, self.seq)
        return req

    def send(self, req: dict[str, Any], channel: str, msg_type: str, **content: Any) -> None:
        self.seq += 1
        self.journal.on_message(channel, reply_to(req, msg_type, content), self.seq)

    def run(self, cell: str, *texts: str) -> dict[str, Any]:
        req = self.begin(cell)
        self.send(req, "iopub", "status", execution_state="busy")
        for text in texts:
            self.send(req, "iopub", "stream", name="stdout", text=text)
        return req

    def finish(self, req: dict[str, Any], count: int) -> None:
        self.send(req, "shell", "execute_reply", status="ok", execution_count=count)
        self.send(req, "iopub", "status", execution_state="idle")


def entries(journal: Journal, after: int | None = None) -> dict[str, dict[str, Any]]:
    return {e["cellId"]: e for e in journal.since(after)}


async def test_outputs_are_folded_and_the_end_recorded() -> None:
    journal = Journal(NoChannels())  # type: ignore[arg-type]
    feed = Feed(journal)
    req = feed.run("a", "one\n", "two\n")
    feed.send(req, "iopub", "display_data", data={"text/plain": "x"}, metadata={},
              transient={"display_id": "d"})
    feed.send(req, "iopub", "update_display_data", data={"text/plain": "y"}, metadata={},
              transient={"display_id": "d"})
    running = entries(journal)["a"]
    assert running["status"] == "running" and running["executionId"] == "e-a"
    assert running["outputs"][0] == {"output_type": "stream", "name": "stdout",
                                     "text": "one\ntwo\n"}
    assert running["outputs"][1]["data"] == {"text/plain": "y"}  # the update applied
    mark = feed.seq
    feed.finish(req, 7)
    done = entries(journal)["a"]
    assert done["status"] == "ok" and done["executionCount"] == 7 and done["endedAt"]
    assert done["seq"] > mark and entries(journal, done["seq"]) == {}
    assert set(entries(journal, mark)) == {"a"}


async def test_a_pending_input_is_recorded_until_answered() -> None:
    journal = Journal(NoChannels())  # type: ignore[arg-type]
    feed = Feed(journal)
    req = feed.run("a")
    feed.send(req, "stdin", "input_request", prompt="name? ", password=False)
    assert entries(journal)["a"]["pendingInput"] == {"prompt": "name? ", "password": False}
    feed.seq += 1
    journal.input_answered(feed.seq)
    assert entries(journal)["a"]["pendingInput"] is None


async def test_the_oldest_finished_executions_go_first() -> None:
    journal = Journal(NoChannels(), max_entries=3)  # type: ignore[arg-type]
    feed = Feed(journal)
    for number, cell in enumerate("abcde"):
        feed.finish(feed.run(cell, cell), number)
    assert list(entries(journal)) == ["c", "d", "e"]


async def test_a_running_execution_over_the_budget_keeps_its_latest_output() -> None:
    journal = Journal(NoChannels(), max_bytes=10_000)  # type: ignore[arg-type]
    feed = Feed(journal)
    feed.finish(feed.run("old", "o" * 4000), 1)
    req = feed.run("big")
    for number in range(100):
        feed.send(req, "iopub", "stream", name="stderr" if number % 2 else "stdout",
                  text=f"{number:04d}" + "x" * 200 + "\n")
    assert journal.bytes <= 10_000
    kept = entries(journal)
    assert "old" not in kept  # finished ones went first
    big = kept["big"]
    assert big["droppedBytes"] > 0
    marker, *outputs = big["outputs"]
    assert marker["name"] == "stderr" and "bytes of earlier output were dropped" in marker["text"]
    assert outputs[-1]["text"].startswith("0099")  # the latest output is there
    # a single output larger than the budget keeps its tail
    req = feed.run("huge", "h" * 50_000 + "END\n")
    huge = entries(journal)["huge"]
    assert huge["outputs"][-1]["text"].endswith("END\n")
    assert journal.bytes <= 10_000


async def test_a_kernel_death_ends_the_running_execution_with_kernel_died() -> None:
    journal = Journal(NoChannels())  # type: ignore[arg-type]
    feed = Feed(journal)
    feed.run("a", "up\n")
    journal.kernel_died("the kernel died (killed by SIGKILL)", feed.seq + 1)
    entry = entries(journal)["a"]
    assert entry["status"] == "error"
    assert entry["outputs"][-1]["ename"] == "KernelDied"
    assert "SIGKILL" in entry["outputs"][-1]["evalue"]
