"""Frames on the kernel host's socket.

Each frame is a 4-byte big-endian length and a body whose first byte says its kind:
  b"J" + JSON                       a request, a reply or an event (see host.py)
  b"M" + 4-byte length + JSON + v1  a kernel message: {"k": kernelId, "s": seq} and the
                                    message in the v1 websocket framing (wire.py)
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass
from typing import Any

import orjson

from bridge.kernels.wire import decode_v1, encode_v1

MAX_FRAME = 1 << 30
_LENGTH = struct.Struct("!I")


@dataclass
class KernelFrame:
    kernel_id: str
    seq: int | None
    channel: str
    msg: dict[str, Any]


Frame = dict[str, Any] | KernelFrame


class FrameError(ValueError):
    """A frame that breaks the framing: the connection cannot go on."""


def control_frame(body: dict[str, Any]) -> bytes:
    data = b"J" + orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
    return _LENGTH.pack(len(data)) + data


def kernel_frame(kernel_id: str, seq: int | None, channel: str,
                 msg: dict[str, Any]) -> bytes:
    meta = orjson.dumps({"k": kernel_id, "s": seq})
    message = encode_v1(channel, msg)
    length = 1 + _LENGTH.size + len(meta) + len(message)
    return b"".join([_LENGTH.pack(length), b"M", _LENGTH.pack(len(meta)), meta, message])


async def read_frame(reader: asyncio.StreamReader) -> Frame | None:
    """The next frame, or None at a clean end of the stream; FrameError if malformed."""
    try:
        head = await reader.readexactly(_LENGTH.size)
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise FrameError("the stream ended inside a frame's length") from None
        return None
    (length,) = _LENGTH.unpack(head)
    if length == 0 or length > MAX_FRAME:
        raise FrameError(f"a frame of {length} bytes")
    try:
        body = await reader.readexactly(length)
    except asyncio.IncompleteReadError:
        raise FrameError("the stream ended inside a frame") from None
    return parse_frame(body)


def parse_frame(body: bytes) -> Frame:
    kind, rest = body[:1], memoryview(body)[1:]
    try:
        if kind == b"J":
            value = orjson.loads(rest)
            if not isinstance(value, dict):
                raise FrameError("a control frame that is not a JSON object")
            return value
        if kind == b"M":
            (meta_length,) = _LENGTH.unpack_from(rest, 0)
            meta = orjson.loads(rest[_LENGTH.size:_LENGTH.size + meta_length])
            channel, msg = decode_v1(bytes(rest[_LENGTH.size + meta_length:]))
            kernel_id, seq = meta.get("k"), meta.get("s")
            if not isinstance(kernel_id, str) or not (seq is None or isinstance(seq, int)):
                raise FrameError("a kernel frame without a kernel id")
            return KernelFrame(kernel_id, seq, channel, msg)
    except (orjson.JSONDecodeError, struct.error, ValueError, KeyError,
            AttributeError) as exc:
        if isinstance(exc, FrameError):
            raise
        raise FrameError(f"an unreadable frame: {exc}") from None
    raise FrameError(f"a frame of unknown kind {bytes(kind)!r}")
