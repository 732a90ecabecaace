"""LSP frames come out whole and in order however the pipe cuts the bytes."""

from __future__ import annotations

import asyncio
import os

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.pipes import FrameReader, Oversized, PipeWriter

LIMIT = 1000


def framed(body: bytes, blank_lines: int = 0, lf_only: bool = False) -> bytes:
    end = b"\n" if lf_only else b"\r\n"
    return (end * blank_lines + b"Content-Type: application/vscode-jsonrpc\r\n"
            + b"content-length: %d" % len(body) + end + end + body)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.binary(max_size=2 * LIMIT), st.integers(0, 2), st.booleans()),
                max_size=8),
       st.lists(st.integers(1, 700), min_size=1, max_size=30))
def test_frames_survive_any_chunking(messages: list[tuple[bytes, int, bool]],
                                     cuts: list[int]) -> None:
    stream = b"".join(framed(*message) for message in messages)
    reader = FrameReader(LIMIT)
    at, turn = 0, 0
    while at < len(stream):
        step = cuts[turn % len(cuts)]
        reader.data_received(stream[at:at + step])
        at, turn = at + step, turn + 1
    reader.connection_lost(None)

    async def drain() -> list[object]:
        frames = []
        while (frame := await reader.next_frame()) is not None:
            frames.append(frame)
        return frames

    frames = asyncio.run(drain())
    expected: list[object] = [
        body if len(body) <= LIMIT else Oversized(len(body), body[:4096])
        for body, _, _ in messages]
    assert [bytes(f) if not isinstance(f, Oversized) else f for f in frames] == expected


def test_writer_delivers_large_and_small_writes_in_order() -> None:
    async def main() -> bytes:
        read_end, write_end = os.pipe()
        writer = PipeWriter(write_end)
        pieces = [os.urandom(3 << 20), b"small", os.urandom(100), os.urandom(2 << 20), b"end"]
        for piece in pieces:
            writer.write(piece)
        loop = asyncio.get_running_loop()
        received = bytearray()
        total = sum(map(len, pieces))
        while len(received) < total:
            received += await loop.run_in_executor(None, os.read, read_end, 1 << 20)
        await asyncio.wait_for(writer.drained(), 10)
        writer.close()
        os.close(read_end)
        assert bytes(received) == b"".join(pieces)
        return bytes(received)

    asyncio.run(main())
