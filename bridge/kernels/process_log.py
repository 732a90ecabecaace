"""What a kernel process writes to its stdout and stderr: relayed to the bridge's log, and
its last lines kept, so that a kernel that fails to start says why in the error the user
sees (not only in the bridge's log)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import deque
from typing import IO, Any

logger = logging.getLogger(__name__)

KEPT_LINES = 20
KEPT_LINE_CHARS = 500


class _LineReader(asyncio.Protocol):
    def __init__(self, log: ProcessLog, stream: str) -> None:
        self._log = log
        self._stream = stream
        self._partial = b""

    def data_received(self, data: bytes) -> None:
        *lines, self._partial = (self._partial + data).split(b"\n")
        for line in lines:
            self._log.add(self._stream, line)
        if len(self._partial) > 64 * 1024:  # a line without end: keep memory bounded
            self._log.add(self._stream, self._partial)
            self._partial = b""

    def connection_lost(self, exc: Exception | None) -> None:
        if self._partial:
            self._log.add(self._stream, self._partial)
        self._log.stream_ended()


class ProcessLog:
    """The output pipes of one kernel process, read on the event loop."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.lines: deque[str] = deque(maxlen=KEPT_LINES)
        self._transports: list[asyncio.BaseTransport] = []
        self._open = 0
        self._ended = asyncio.Event()

    async def attach(self, process: Any) -> None:
        """Read the stdout and stderr pipes of a Popen (those that are pipes)."""
        loop = asyncio.get_running_loop()
        for name in ("stdout", "stderr"):
            pipe: IO[bytes] | None = getattr(process, name, None)
            if pipe is None:
                continue
            self._open += 1
            transport, _ = await loop.connect_read_pipe(
                functools.partial(_LineReader, self, name), pipe)
            self._transports.append(transport)

    def add(self, stream: str, raw: bytes) -> None:
        text = raw.decode("utf-8", "replace").rstrip("\r")
        if not text.strip():
            return
        self.lines.append(text[:KEPT_LINE_CHARS])
        logger.info("kernel %s %s: %s", self.label, stream, text)

    def stream_ended(self) -> None:
        self._open -= 1
        if self._open <= 0:
            self._ended.set()

    async def drained(self, timeout: float) -> None:
        """Wait (briefly) until a dead process's last lines are read."""
        if self._open > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ended.wait(), timeout)

    def tail(self) -> str:
        return "\n".join(self.lines)

    def close(self) -> None:
        for transport in self._transports:
            transport.close()
        self._transports.clear()
