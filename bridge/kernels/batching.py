"""Output coalescing: one execution's output operations, batched into few notifications.

Stream text is merged; a batch goes out at most ``rate`` times a second (the first at
once, the rest on a timer, so a `print(..., flush=True); time.sleep(60)` shows up right
away) and on close. A run that keeps printing gets batches ever less often, down to one
a second (after BRISK_BATCHES batches): a cell spewing for minutes costs the client a few
hundred notifications, not thousands; a print after a quiet spell still goes out at once.
A clear makes the appends still waiting before it moot, so they are dropped before they
are ever sent: a progress loop costs one small batch per tick.
Nothing else is ever dropped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

DEFAULT_RATE = 60.0
BRISK_BATCHES = 20
SLOWEST_INTERVAL = 1.0


class OutputBatcher:
    def __init__(self, send: Callable[[list[dict[str, Any]]], None],
                 rate: float = DEFAULT_RATE) -> None:
        self._send = send
        self._brisk_interval = self._interval = 1.0 / rate
        self._pending: list[dict[str, Any]] = []
        self._text_parts: list[str] = []  # of the trailing appendText op, joined on flush
        self._last_flush = float("-inf")
        self._timer: asyncio.TimerHandle | None = None
        self.batches_sent = 0

    def add(self, op: dict[str, Any]) -> None:
        kind = op["op"]
        if kind == "appendText":
            last = self._pending[-1] if self._pending else None
            if last is not None and last["op"] == "appendText" and last["name"] == op["name"]:
                self._text_parts.append(op["text"])
            else:
                self._seal_text()
                self._pending.append(dict(op))
                self._text_parts = [op["text"]]
        else:
            self._seal_text()
            if kind == "clear":
                self._pending = [p for p in self._pending if p["op"] == "replace"]
            self._pending.append(op)
        self._schedule()

    def _seal_text(self) -> None:
        if self._text_parts:
            self._pending[-1]["text"] = "".join(self._text_parts)
            self._text_parts = []

    def _schedule(self) -> None:
        if self._timer is not None:
            return
        wait = self._last_flush + self._interval - time.monotonic()
        if wait <= 0:
            self.flush()
        else:
            self._timer = asyncio.get_running_loop().call_later(wait, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._pending:
            return
        self._seal_text()
        batch, self._pending = self._pending, []
        self._last_flush = time.monotonic()
        self.batches_sent += 1
        if self.batches_sent >= BRISK_BATCHES:
            self._interval = min(SLOWEST_INTERVAL, max(self._brisk_interval,
                                                       self.batches_sent / 100))
        self._send(batch)

    def close(self) -> None:
        """Send what is left; call before answering the execute request."""
        self.flush()
