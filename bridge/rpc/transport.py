"""JSON-RPC messages over stdio on one asyncio loop: orjson bodies, size limits.

pygls's own stdio loop reads each line in a thread, parses every object with an
object_hook and answers nothing when a message cannot be parsed; this loop parses a
body once with orjson and answers every malformed request with a JSON-RPC error.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Callable
from typing import Any, BinaryIO

import orjson

from bridge.errors import ErrorCode
from bridge.large_work import run_large
from bridge.rpc.framing import FrameReader, Oversized, open_stdio
from bridge.rpc.protocol import BridgeProtocol, is_notification_method

logger = logging.getLogger(__name__)

DEFAULT_MAX_MESSAGE_BYTES = 1 << 30
LARGE_BODY_BYTES = 4 << 20  # smaller messages are parsed whole, on the event loop
_ID_IN_BODY = re.compile(rb'"id"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+)')


def _error_reply(msg_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}


BodyParser = Callable[[bytes | bytearray], Any]
"""Parses a large message body (raises orjson.JSONDecodeError like orjson.loads): a
feature may know a faster way for its own method's body."""


async def serve_stream(
    reader: FrameReader,
    protocol: BridgeProtocol,
    send_raw: Callable[[dict[str, Any]], None],
    parse_large: BodyParser = orjson.loads,
) -> None:
    """Read framed messages until end of input, handing each to the protocol. Bodies
    over LARGE_BODY_BYTES go to `parse_large` in a thread, so kernel output keeps
    flowing meanwhile."""
    while True:
        frame = await reader.next_frame()
        if frame is None:
            return
        if isinstance(frame, Oversized):
            found = _ID_IN_BODY.search(frame.head)
            logger.error("message of %d bytes is over the %d byte limit", frame.length,
                         reader.max_body_bytes)
            if found:
                send_raw(_error_reply(
                    orjson.loads(found.group(1)), int(ErrorCode.TOO_LARGE),
                    f"message of {frame.length} bytes is over the bridge's limit of "
                    f"{reader.max_body_bytes} bytes",
                ))
            continue
        try:
            if len(frame) > LARGE_BODY_BYTES:
                message = await run_large(parse_large, frame)
            else:
                message = orjson.loads(frame)
        except orjson.JSONDecodeError as exc:
            send_raw(_error_reply(None, -32700, f"parse error: {exc}"))
            continue
        del frame
        dispatch(message, protocol, send_raw)


def dispatch(
    message: Any, protocol: BridgeProtocol, send_raw: Callable[[dict[str, Any]], None]
) -> None:
    """Hand over one parsed message; answer what cannot be handled."""
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        msg_id = message.get("id") if isinstance(message, dict) else None
        send_raw(_error_reply(msg_id, -32600, "invalid request: not a JSON-RPC 2.0 object"))
        return
    msg_id = message.get("id")
    is_request = "method" in message and msg_id is not None
    if is_request and (not isinstance(message["method"], str)
                       or not isinstance(msg_id, (str, int)) or isinstance(msg_id, bool)):
        send_raw(_error_reply(msg_id if isinstance(msg_id, (str, int)) else None,
                              -32600, "invalid request: bad method or id"))
        return
    if is_request and is_notification_method(message["method"]):
        # pygls would handle it as the notification and drop the id: never answered.
        send_raw(_error_reply(msg_id, -32600, f"invalid request: {message['method']!r} is "
                              "a notification; send it without an id"))
        return
    try:
        structured = protocol.structure_message(message)
    except Exception as exc:
        logger.warning("invalid message %s: %s", message.get("method"), exc)
        if is_request:
            reason = exc.__cause__ or exc
            send_raw(_error_reply(msg_id, -32602,
                                  f"invalid params for {message['method']}: {reason}"))
        return
    try:
        protocol.handle_message(structured)
    except Exception:
        logger.exception("failed to handle %s", message.get("method"))
        if is_request:
            send_raw(_error_reply(msg_id, -32603, "internal error"))


async def run_stdio(
    protocol: BridgeProtocol,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    stdin: BinaryIO | None = None,
    stdout: BinaryIO | None = None,
    parse_large: BodyParser = orjson.loads,
) -> None:
    reader, writer = await open_stdio(stdin or sys.stdin.buffer, stdout or sys.stdout.buffer,
                                      max_message_bytes)
    protocol.attach(writer)

    def send_raw(message: dict[str, Any]) -> None:
        writer.write_message(orjson.dumps(message))

    await serve_stream(reader, protocol, send_raw, parse_large)


def detach_stdout() -> BinaryIO:
    """Take stdout for the wire and point fd 1 at stderr, so stray prints cannot corrupt it."""
    wire = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return wire
