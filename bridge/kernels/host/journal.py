"""The execution journal the kernel host keeps per kernel: what each recent execution
printed (folded outputs, display updates applied), how it ended, and the input() it
waits for, numbered by the kernel's message sequence so that a client that comes back
learns exactly what happened while it was away.

Bounded: at most `max_entries` executions and `max_bytes` of outputs per kernel. The
oldest finished executions go first; a running one over the budget loses its earliest
outputs and shows a marker saying how much was dropped.
"""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass, field
from typing import Any

from bridge.kernels.channels import KernelChannels
from bridge.kernels.execution import Execution, kernel_died_output, now_ms
from bridge.kernels.outputs import DisplayIndex, apply_output_op

MAX_ENTRIES = 200
MAX_BYTES = 32 << 20


def output_size(output: dict[str, Any]) -> int:
    """About how many bytes an nbformat output holds (its text and data)."""
    size = 64
    for key in ("text", "evalue", "ename"):
        value = output.get(key)
        if isinstance(value, str):
            size += len(value)
        elif isinstance(value, list):
            size += sum(len(part) for part in value if isinstance(part, str))
    for value in (output.get("data") or {}).values():
        size += len(value) if isinstance(value, str) else 256
    size += sum(len(line) for line in output.get("traceback") or [] if isinstance(line, str))
    return size


@dataclass
class JournalEntry:
    msg_id: str
    execution_id: str | None
    cell_id: str | None
    notebook_uri: str | None
    seq: int
    outputs: list[dict[str, Any]] = field(default_factory=list)
    status: str = "running"
    execution_count: int | None = None
    started_at: float | None = None
    ended_at: float | None = None
    pending_input: dict[str, Any] | None = None
    dropped_bytes: int = 0
    size: int = 0

    def describe(self, max_bytes: int) -> dict[str, Any]:
        outputs = list(self.outputs)
        if self.dropped_bytes:
            outputs.insert(0, {
                "output_type": "stream", "name": "stderr",
                "text": f"[{self.dropped_bytes} bytes of earlier output were dropped: the "
                        f"kernel host keeps up to {max_bytes >> 20} MiB per kernel]\n"})
        return {"msgId": self.msg_id, "executionId": self.execution_id,
                "cellId": self.cell_id, "notebookUri": self.notebook_uri, "seq": self.seq,
                "status": self.status, "executionCount": self.execution_count,
                "startedAt": self.started_at, "endedAt": self.ended_at, "outputs": outputs,
                "pendingInput": self.pending_input, "droppedBytes": self.dropped_bytes}


class Journal:
    def __init__(self, channels: KernelChannels, max_entries: int = MAX_ENTRIES,
                 max_bytes: int = MAX_BYTES) -> None:
        self.channels = channels
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.seq = 0  # of the last message folded in
        self._entries: collections.OrderedDict[str, JournalEntry] = collections.OrderedDict()
        self._followers: dict[str, Execution] = {}
        self._done: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._displays: DisplayIndex = {}
        self._bytes = 0

    # --------------------------------------------------------------- record
    def begin(self, msg: dict[str, Any], seq: int) -> JournalEntry:
        """An execute_request sent to the kernel: its journal entry."""
        metadata = msg.get("metadata") or {}
        found = metadata.get("nbbridge")
        label: dict[str, Any] = found if isinstance(found, dict) else {}
        msg_id = str(msg["header"]["msg_id"])
        entry = JournalEntry(msg_id, _text(label.get("executionId")),
                             _text(label.get("cellId") or metadata.get("cellId")),
                             _text(label.get("notebookUri")), seq)
        self._entries[msg_id] = entry
        follower = Execution("", entry.execution_id or msg_id,
                             on_output=lambda op: self._fold(entry, op), on_input=None,
                             stop_on_error=False, interrupt=_never)
        self._followers[msg_id] = follower
        self._done[msg_id] = follower.observe(self.channels, msg_id)
        self._trim()
        return entry

    def on_message(self, channel: str, msg: dict[str, Any], seq: int) -> None:
        """A message from the kernel (numbered `seq`), or an input_reply sent to it."""
        self.seq = seq
        parent = (msg.get("parent_header") or {}).get("msg_id")
        follower = self._followers.get(parent) if parent else None
        entry = self._entries.get(parent) if parent else None
        if entry is not None:
            entry.seq = seq
            if channel == "stdin" and msg["msg_type"] == "input_request":
                content = msg["content"]
                entry.pending_input = {"prompt": str(content.get("prompt", "")),
                                       "password": bool(content.get("password", False))}
        if follower is not None and entry is not None:
            follower.on_message(channel, msg)
            self._ended_if_done(entry)

    def input_answered(self, seq: int) -> None:
        """An input_reply went to the kernel: no input() waits any more."""
        for entry in self._entries.values():
            if entry.pending_input is not None:
                entry.pending_input = None
                entry.seq = seq
        self.seq = seq

    def kernel_died(self, reason: str, seq: int) -> None:
        """The running executions end with the KernelDied error a client shows."""
        self.seq = seq
        for msg_id, follower in list(self._followers.items()):
            follower.finish_abnormally(kernel_died_output(reason))
            entry = self._entries.get(msg_id)
            if entry is not None:
                self._ended_if_done(entry)

    # ---------------------------------------------------------------- read
    def since(self, seq: int | None) -> list[dict[str, Any]]:
        """The executions that changed after `seq` (all kept ones for None), and every
        running one: a client coming back follows it to its end even when it printed
        nothing since."""
        return [entry.describe(self.max_bytes) for entry in self._entries.values()
                if seq is None or entry.seq > seq or entry.status == "running"]

    def running(self) -> list[JournalEntry]:
        return [entry for entry in self._entries.values() if entry.status == "running"]

    @property
    def bytes(self) -> int:
        return self._bytes

    # ------------------------------------------------------------- folding
    def _fold(self, entry: JournalEntry, op: dict[str, Any]) -> None:
        entry.seq = max(entry.seq, self.seq)
        before = entry.size
        if op["op"] == "clear":
            self._forget_displays(entry.outputs)
            entry.outputs.clear()
            entry.size = 0
        else:
            apply_output_op(entry.outputs, op, self._displays)
            if op["op"] == "appendText":
                entry.size += len(op["text"])
            elif op["op"] == "append":
                entry.size += output_size(op["output"])
        self._bytes += entry.size - before
        if self._bytes > self.max_bytes:
            self._trim()

    def _ended_if_done(self, entry: JournalEntry) -> None:
        done = self._done.get(entry.msg_id)
        if done is None or not done.done():
            return
        self._followers.pop(entry.msg_id, None)
        self._done.pop(entry.msg_id, None)
        if done.cancelled():
            return
        result = done.result()
        entry.status = result["status"]
        entry.execution_count = result.get("executionCount")
        entry.started_at = result.get("startedAt") or entry.started_at
        entry.ended_at = result.get("endedAt") or now_ms()
        entry.pending_input = None
        entry.seq = max(entry.seq, self.seq)

    def _trim(self) -> None:
        finished = [e for e in self._entries.values() if e.status != "running"]
        while finished and (len(self._entries) > self.max_entries
                            or self._bytes > self.max_bytes):
            self._drop(finished.pop(0))
        for entry in self.running():
            if self._bytes <= self.max_bytes:
                return
            self._shrink(entry, self._bytes - self.max_bytes)

    def _drop(self, entry: JournalEntry) -> None:
        self._entries.pop(entry.msg_id, None)
        self._followers.pop(entry.msg_id, None)
        self._done.pop(entry.msg_id, None)
        self._forget_displays(entry.outputs)
        self._bytes -= entry.size

    def _shrink(self, entry: JournalEntry, excess: int) -> None:
        """Drop a running entry's earliest outputs (or the head of its one output's text)
        until `excess` bytes are gone; its latest output stays."""
        dropped = 0
        while len(entry.outputs) > 1 and dropped < excess:
            gone = entry.outputs.pop(0)
            self._forget_displays([gone])
            dropped += output_size(gone)
        if dropped < excess and entry.outputs:
            last = entry.outputs[0]
            text = last.get("text")
            if isinstance(text, list):
                text = "".join(text)
            if isinstance(text, str) and len(text) > 1:
                cut = min(len(text) - 1, excess - dropped)
                last["text"] = text[cut:]
                dropped += cut
        dropped = min(dropped, entry.size)
        entry.size -= dropped
        entry.dropped_bytes += dropped
        self._bytes -= dropped

    def _forget_displays(self, outputs: list[dict[str, Any]]) -> None:
        if not self._displays or not outputs:
            return
        gone = {id(output) for output in outputs}
        for display_id in list(self._displays):
            kept = [shown for shown in self._displays[display_id] if id(shown) not in gone]
            if kept:
                self._displays[display_id] = kept
            else:
                del self._displays[display_id]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


async def _never() -> None:
    """The journal never interrupts anything."""
