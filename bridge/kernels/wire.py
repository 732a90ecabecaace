"""Kernel messages as bytes: a Jupyter Server's kernel websocket (both framings) and the
kernel host's socket (bridge.kernels.host), which carries the v1 framing.

`v1.kernel.websocket.jupyter.org` (jupyter_server >= 2, both gateways): one binary frame,
8-byte little-endian count of offsets, the offsets, then the channel name, header,
parent_header, metadata, content and buffers. The legacy framing: a JSON text frame with
a `channel` member, or, when there are buffers, a binary frame of a 4-byte big-endian
count, 4-byte offsets, the JSON and the buffers. The server signs and checks messages
with the kernel's key; the client never sees it.
"""

from __future__ import annotations

import struct
from typing import Any

import orjson

V1_PROTOCOL = "v1.kernel.websocket.jupyter.org"


def _json(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


def as_wire(msg: dict[str, Any], buffers: list[bytes] | None) -> dict[str, Any]:
    """A message of a jupyter_client Session as the byte framings carry it: its date as
    an ISO string, its buffers in it."""
    msg["header"]["date"] = msg["header"]["date"].isoformat()
    msg["buffers"] = list(buffers or [])
    return msg


def encode_v1(channel: str, msg: dict[str, Any]) -> bytes:
    parts = [channel.encode(), _json(msg["header"]), _json(msg["parent_header"]),
             _json(msg["metadata"]), _json(msg["content"]),
             *(bytes(buffer) for buffer in msg.get("buffers") or [])]
    offsets = [8 * (1 + len(parts) + 1)]
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    head = struct.pack(f"<{len(offsets) + 1}Q", len(offsets), *offsets)
    return b"".join([head, *parts])


def decode_v1(frame: bytes) -> tuple[str, dict[str, Any]]:
    view = memoryview(frame)
    (count,) = struct.unpack_from("<Q", view, 0)
    if count < 6 or len(frame) < 8 * (count + 1):
        raise ValueError(f"a v1 kernel message with {count} offsets")
    offsets = struct.unpack_from(f"<{count}Q", view, 8)
    parts = [view[offsets[i]:offsets[i + 1]] for i in range(count - 1)]
    channel = bytes(parts[0]).decode()
    header, parent, metadata, content = (orjson.loads(part) for part in parts[1:5])
    return channel, _message(header, parent, metadata, content,
                             [bytes(part) for part in parts[5:]])


def encode_legacy(channel: str, msg: dict[str, Any]) -> str | bytes:
    buffers = [bytes(buffer) for buffer in msg.get("buffers") or []]
    body = _json({"header": msg["header"], "parent_header": msg["parent_header"],
                  "metadata": msg["metadata"], "content": msg["content"],
                  "channel": channel})
    if not buffers:
        return body.decode()
    parts = [body, *buffers]
    offsets = [4 * (len(parts) + 1)]
    for part in parts[:-1]:
        offsets.append(offsets[-1] + len(part))
    return struct.pack(f"!{len(parts) + 1}I", len(parts), *offsets) + b"".join(parts)


def decode_legacy(frame: str | bytes) -> tuple[str, dict[str, Any]]:
    buffers: list[bytes] = []
    if isinstance(frame, str):
        body: Any = orjson.loads(frame)
    else:
        (count,) = struct.unpack_from("!I", frame, 0)
        offsets = [*struct.unpack_from(f"!{count}I", frame, 4), len(frame)]
        body = orjson.loads(frame[offsets[0]:offsets[1]])
        buffers = [frame[offsets[i]:offsets[i + 1]] for i in range(1, count)]
    if not isinstance(body, dict) or "header" not in body:
        raise ValueError("a kernel message without a header")
    return str(body.get("channel", "")), _message(
        body["header"], body.get("parent_header") or {}, body.get("metadata") or {},
        body.get("content") or {}, buffers)


def _message(header: dict[str, Any], parent: dict[str, Any], metadata: dict[str, Any],
             content: dict[str, Any], buffers: list[bytes]) -> dict[str, Any]:
    return {"header": header, "msg_id": header.get("msg_id"),
            "msg_type": header.get("msg_type"), "parent_header": parent or {},
            "metadata": metadata, "content": content, "buffers": buffers}
