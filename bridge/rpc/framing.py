"""LSP frames in and out of stdio pipes on the event loop, copying large bodies once.

asyncio's pipe transport and StreamReader copy a body several times on its way in and
out (docs/performance.md has what that costs). Here a body is read from the pipe
straight into a buffer of its announced size, and written from the caller's bytes as
the pipe drains.
"""

from __future__ import annotations

import asyncio
import collections
import fcntl
import itertools
import logging
import os
import re
from dataclasses import dataclass
from typing import BinaryIO, Protocol

logger = logging.getLogger(__name__)

PIPE_BYTES = 1 << 20
_F_SETPIPE_SZ = 1031
_CONTENT_LENGTH = re.compile(rb"content-length:\s*(\d+)\s*$", re.IGNORECASE)
_MAX_HEADER_LINE = 64 << 10
_IOV_MAX = max(16, os.sysconf("SC_IOV_MAX"))  # pieces one writev takes (POSIX: >= 16)
# Read no further ahead than this while frames wait to be handled.
_QUEUED_LIMIT = 64 << 20


class MessageWriter(Protocol):
    """Where the protocol sends its messages: whole frames, body given in pieces."""

    def write_message(self, *pieces: bytes | memoryview) -> None: ...

    async def drained(self) -> None: ...


@dataclass
class Oversized:
    """A frame whose body was over the limit: skipped, only its start kept (to find the
    request id)."""

    length: int
    head: bytes


Frame = bytes | bytearray | Oversized


class FrameReader:
    """Splits the bytes of a read pipe into LSP frames."""

    def __init__(self, max_body_bytes: int) -> None:
        self.max_body_bytes = max_body_bytes
        self._frames: collections.deque[Frame | None] = collections.deque()
        self._arrived = asyncio.Event()
        self._header = bytearray()
        self._length = -1
        self._body: bytearray | None = None
        self._filled = 0
        self._skipping = self._skipped_length = 0
        self._skipped_head = b""
        self._queued = 0
        self._paused = False
        self._fd = -1
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ended = False

    def attach(self, fd: int) -> None:
        """Read `fd` (made non-blocking) on the running loop until its end."""
        os.set_blocking(fd, False)
        self._fd = fd
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(fd, self._on_readable)

    def _on_readable(self) -> None:
        body = self._body
        try:
            if body is not None:  # straight into the body: no chunk object, no copy
                count = os.readv(self._fd, [memoryview(body)[self._filled:]])
            else:
                data = os.read(self._fd, PIPE_BYTES)
                count = len(data)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            logger.info("input pipe failed: %s", exc)
            count = 0
        if count == 0:
            self._stop_reading()
            self._ended = True
            self.connection_lost(None)
        elif body is None:
            self.data_received(data)
        else:
            self._filled += count
            if self._filled == len(body):
                self._body = None
                self._emit(body)

    def detach(self) -> None:
        """Read no more (the descriptor stays open, for its owner to close)."""
        self._ended = True
        self._stop_reading()

    def _stop_reading(self) -> None:
        if self._loop is not None:
            self._loop.remove_reader(self._fd)

    def data_received(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self._body is not None:
                take = min(len(view), len(self._body) - self._filled)
                self._body[self._filled:self._filled + take] = view[:take]
                self._filled += take
                view = view[take:]
                if self._filled == len(self._body):
                    body, self._body = self._body, None
                    self._emit(body)
            elif self._skipping:
                take = min(len(view), self._skipping)
                if len(self._skipped_head) < 4096:
                    self._skipped_head += bytes(view[:4096 - len(self._skipped_head)])
                self._skipping -= take
                view = view[take:]
                if not self._skipping:
                    self._emit(Oversized(self._skipped_length, self._skipped_head))
                    self._skipped_head = b""
            else:
                view = self._read_header(view)

    def _read_header(self, view: memoryview) -> memoryview:
        """Consume header lines; start a body when the blank line after them comes."""
        end = bytes(view[:256]).find(b"\n")  # header lines are short: look near first
        if end < 0:
            end = bytes(view[:_MAX_HEADER_LINE]).find(b"\n")
        if end < 0:
            self._header += view
            if len(self._header) > _MAX_HEADER_LINE:
                logger.error("dropping %d bytes that are not an LSP header", len(self._header))
                self._header.clear()
            return view[len(view):]
        self._header += view[:end + 1]
        line = bytes(self._header).strip()
        self._header.clear()
        rest = view[end + 1:]
        if line:
            match = _CONTENT_LENGTH.match(line)
            if match:
                self._length = int(match.group(1))
            return rest
        if self._length < 0:
            return rest  # a stray blank line before any header
        length, self._length = self._length, -1
        if length > self.max_body_bytes:
            self._skipping = self._skipped_length = length
        elif len(rest) >= length:
            self._emit(bytes(rest[:length]))
            return rest[length:]
        else:
            self._body = bytearray(length)
            self._body[:len(rest)] = rest
            self._filled = len(rest)
        if self._skipping:
            return rest
        return rest[len(rest):]

    def _emit(self, frame: Frame) -> None:
        self._frames.append(frame)
        self._queued += _size(frame)
        self._arrived.set()
        if self._queued > _QUEUED_LIMIT and self._loop is not None and not self._paused:
            self._paused = True
            self._stop_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self._frames.append(None)
        self._arrived.set()

    async def next_frame(self) -> Frame | None:
        """The next whole frame, or None at end of input."""
        while not self._frames:
            self._arrived.clear()
            await self._arrived.wait()
        frame = self._frames.popleft()
        if frame is not None:
            self._queued -= _size(frame)
            if self._paused and self._queued <= _QUEUED_LIMIT // 2 and self._loop:
                self._paused = False
                if not self._ended:
                    self._loop.add_reader(self._fd, self._on_readable)
        return frame


def _size(frame: Frame | None) -> int:
    return frame.length if isinstance(frame, Oversized) else len(frame or b"")


class PipeWriter:
    """Writes to a non-blocking pipe from the event loop, never blocking and never copying:
    whatever the pipe does not take at once waits in a queue, as the caller's own bytes,
    and goes out with writev (many pieces a call) as the pipe drains."""

    def __init__(self, fd: int) -> None:
        os.set_blocking(fd, False)
        self._fd = fd
        self._loop = asyncio.get_running_loop()
        self._queue: collections.deque[bytes | bytearray | memoryview] = collections.deque()
        self._empty = asyncio.Event()
        self._empty.set()
        self._broken = False

    def write_message(self, *pieces: bytes | memoryview) -> None:
        """One LSP frame: the Content-Length header, then the body given in pieces (kept
        as they are until written: they must not change meanwhile)."""
        header = b"Content-Length: %d\r\n\r\n" % sum(map(len, pieces))
        self._send(header, *pieces)

    def write(self, data: bytes | memoryview) -> None:
        self._send(data)

    def _send(self, *pieces: bytes | memoryview) -> None:
        if self._broken:
            return
        waiting = bool(self._queue)
        self._queue.extend(piece for piece in pieces if piece)
        if waiting:
            return  # the pipe is full: everything goes, in order, once it drains
        self._write_queued()
        if self._queue and not self._broken:
            self._empty.clear()
            self._loop.add_writer(self._fd, self._on_writable)

    def _write_queued(self) -> None:
        """Write from the queue until the pipe is full or the queue empty."""
        queue = self._queue
        while queue:
            batch = list(itertools.islice(queue, _IOV_MAX))
            try:
                written = os.writev(self._fd, batch)
            except BlockingIOError:
                return
            except OSError as exc:  # the client is gone: nothing more can reach it
                logger.info("output pipe closed: %s", exc)
                self._broken = True
                queue.clear()
                return
            full = written < sum(map(len, batch))
            while written:
                head = queue[0]
                if written < len(head):
                    queue[0] = memoryview(head)[written:]
                    break
                written -= len(head)
                queue.popleft()
            if full:
                return

    def _on_writable(self) -> None:
        self._write_queued()
        if not self._queue:
            self._loop.remove_writer(self._fd)
            self._empty.set()

    def close(self) -> None:
        self._broken = True
        self._queue.clear()
        self._loop.remove_writer(self._fd)
        self._empty.set()
        os.close(self._fd)

    async def drained(self) -> None:
        """Wait until everything written so far has gone into the pipe."""
        await self._empty.wait()


async def open_stdio(stdin: BinaryIO, stdout: BinaryIO,
                     max_body_bytes: int) -> tuple[FrameReader, PipeWriter]:
    for pipe in (stdin, stdout):
        _widen_pipe(pipe.fileno())
    reader = FrameReader(max_body_bytes)
    reader.attach(stdin.fileno())
    return reader, PipeWriter(stdout.fileno())


def _widen_pipe(fd: int) -> None:
    """Ask for a 1 MiB pipe buffer: far fewer wake-ups for a large notebook."""
    try:
        fcntl.fcntl(fd, _F_SETPIPE_SZ, PIPE_BYTES)
    except OSError:
        pass  # not a pipe, or above the system's limit: the default buffer works too
