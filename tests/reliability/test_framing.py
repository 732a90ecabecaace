"""LSP frames come out whole and in order however the pipe cuts the bytes."""

from __future__ import annotations

import asyncio
import os
import random
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.rpc.framing import FrameReader, Oversized, PipeWriter

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


def test_frames_read_from_a_real_pipe_come_out_whole() -> None:
    """Bodies over a pipe-full are read from the pipe straight into their buffer; the
    writer cuts the stream at random points and pauses between writes."""
    rng = random.Random(3)
    bodies = [rng.randbytes(size) for size in (5, 3 << 20, 0, 70_000, 1, 5 << 20, 200)]
    stream = b"".join(framed(body) for body in bodies)

    def write_all(fd: int) -> None:
        at = 0
        while at < len(stream):
            step = rng.choice((1, 7, 4096, 65_536, 1 << 20, 3 << 20))
            os.write(fd, stream[at:at + step])
            at += step
            if rng.random() < 0.2:
                time.sleep(0.005)
        os.close(fd)

    async def main() -> list[object]:
        read_end, write_end = os.pipe()
        reader = FrameReader(10 << 20)
        reader.attach(read_end)
        writing = asyncio.get_running_loop().run_in_executor(None, write_all, write_end)
        frames = []
        while (frame := await reader.next_frame()) is not None:
            frames.append(bytes(frame) if not isinstance(frame, Oversized) else frame)
        await writing
        os.close(read_end)
        return frames

    assert asyncio.run(main()) == bodies


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


def test_a_message_in_more_pieces_than_one_write_takes_arrives_whole() -> None:
    """A save's file goes out as thousands of pieces, more than one writev takes, while
    the pipe fills and drains: every byte arrives, in order, after its header."""
    rng = random.Random(5)
    pieces = [rng.randbytes(rng.choice((1, 7, 300, 5000, 70_000))) for _ in range(5000)]
    pieces[2500] = memoryview(rng.randbytes(3 << 20))[5:]

    body = b"".join(pieces)
    expected = b"Content-Length: %d\r\n\r\n%bContent-Length: 5\r\n\r\nafter" % (
        len(body), body)

    async def main() -> bytes:
        read_end, write_end = os.pipe()
        writer = PipeWriter(write_end)
        writer.write_message(*pieces)
        writer.write_message(b"after")
        loop = asyncio.get_running_loop()
        received = bytearray()
        try:
            while len(received) < len(expected):
                received += await asyncio.wait_for(
                    loop.run_in_executor(None, os.read, read_end, 1 << 16), 10)
            await asyncio.wait_for(writer.drained(), 10)
        finally:
            writer.close()  # ends a read still waiting
        os.close(read_end)
        return bytes(received)

    assert asyncio.run(main()) == expected


def test_a_detached_reader_leaves_what_comes_after_in_the_pipe() -> None:
    async def main() -> tuple[object, bytes]:
        read_end, write_end = os.pipe()
        reader = FrameReader(LIMIT)
        reader.attach(read_end)
        os.write(write_end, framed(b"first"))
        first = await asyncio.wait_for(reader.next_frame(), 10)
        reader.detach()
        os.write(write_end, framed(b"second"))
        await asyncio.sleep(0.05)  # an attached reader would have taken it by now
        left = os.read(read_end, 1000)
        os.close(read_end)
        os.close(write_end)
        return first, left

    first, left = asyncio.run(main())
    assert first == b"first" and left == framed(b"second")
