"""JSON-RPC messages over stdio on one asyncio loop: orjson bodies, size limits.

pygls's own stdio loop reads each line in a thread, parses every object with an
object_hook and answers nothing when a message cannot be parsed; this loop parses a
body once with orjson and answers every malformed request with a JSON-RPC error.
"""

from __future__ import annotations

import asyncio
import binascii
import logging
import os
import re
import sys
from collections.abc import Callable
from typing import Any, BinaryIO

import orjson
import pybase64

from bridge.pipes import FrameReader, Oversized, open_stdio
from bridge.protocol import (
    NOTEBOOK_DESERIALIZE,
    BridgeProtocol,
    ErrorCode,
    is_notification_method,
)

logger = logging.getLogger(__name__)

DEFAULT_MAX_MESSAGE_BYTES = 1 << 30
_ID_IN_BODY = re.compile(rb'"id"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+)')
_PARSE_IN_THREAD_BYTES = 4 << 20
_FILE_MEMBER = re.compile(rb'"(content|contentBase64)"\s*:\s*"')
_STRING_PIECE = 1 << 16


def _error_reply(msg_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}


async def serve_stream(
    reader: FrameReader,
    protocol: BridgeProtocol,
    send_raw: Callable[[dict[str, Any]], None],
) -> None:
    """Read framed messages until end of input, handing each to the protocol."""
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
            # Big bodies parse in a thread so kernel output keeps flowing meanwhile.
            if len(frame) > _PARSE_IN_THREAD_BYTES:
                message = await asyncio.to_thread(parse_large_body, frame)
            else:
                message = orjson.loads(frame)
        except orjson.JSONDecodeError as exc:
            send_raw(_error_reply(None, -32700, f"parse error: {exc}"))
            continue
        del frame
        dispatch(message, protocol, send_raw)


def parse_large_body(body: bytes | bytearray) -> Any:
    """orjson.loads, except that the file of a `notebook/deserialize` (`content` or
    `contentBase64`) is decoded from the body straight to UTF-8 bytes: no 100 MB str is
    built only to be turned into bytes again."""
    found = _split_file_content(body)
    return found if found is not None else orjson.loads(body)


def _split_file_content(body: bytes | bytearray) -> dict[str, Any] | None:
    """The message with its `params.content(Base64)` already decoded to bytes, or None
    when the body is not plainly that (another shape, another method, a string that
    does not decode): the general path then parses it and gives the usual answer."""
    key = _FILE_MEMBER.search(body, 0, 4096)
    end = body.rfind(b'"')
    if key is None or end < key.end():
        return None
    start, name = key.end(), key.group(1)
    rest = body[:start] + body[end:]
    if rest.count(b'"%b"' % name) != 1:
        return None
    try:
        message = orjson.loads(rest)
    except orjson.JSONDecodeError:
        return None
    member = name.decode()
    if not isinstance(message, dict):
        return None
    params = message.get("params")
    if (not isinstance(params, dict) or params.get(member) != ""
            or message.get("method") != NOTEBOOK_DESERIALIZE):
        return None
    decode = _decode_base64 if member == "contentBase64" else _decode_json_string
    value = decode(body, start, end)
    if value is None:
        return None
    params[member] = value
    found: dict[str, Any] = message
    return found


def _decode_base64(body: bytes | bytearray, start: int, end: int) -> bytes | None:
    try:
        # The base64 alphabet has no quote or backslash: a body slice that decodes cleanly
        # is exactly the string's value.
        return pybase64.b64decode(memoryview(body)[start:end], validate=True)
    except (binascii.Error, ValueError):
        return None


def _decode_json_string(body: bytes | bytearray, start: int, end: int) -> bytes | None:
    """The UTF-8 bytes of the JSON string whose text is body[start:end], decoded piece by
    piece: one str of the whole would take 4 bytes a character once a single emoji is
    in it. Each piece is cut between two escapes and two characters, and orjson checks
    it as a string of its own, so the pieces decode as the whole would; an unescaped
    quote or a bad escape anywhere makes a piece fail, and then the whole is None."""
    pieces = []
    loads = orjson.loads
    position = start
    while position < end:
        cut = _string_cut(body, position + _STRING_PIECE, end)
        try:
            value = loads(b'"' + body[position:cut] + b'"')
        except orjson.JSONDecodeError:
            return None
        pieces.append(value.encode("utf-8"))
        position = cut
    return b"".join(pieces)


def _string_cut(body: bytes | bytearray, position: int, end: int) -> int:
    """A place at or after `position` where a JSON string's text can be cut in two: not
    inside an escape (the longest, \\uXXXX, is 6 bytes) nor inside a UTF-8 character."""
    while position < end:
        for candidate in range(position, min(position + 256, end)):
            if body[candidate] & 0xC0 != 0x80 and body.find(b"\\", candidate - 6,
                                                              candidate) < 0:
                return candidate
        position += _STRING_PIECE  # a long run of escapes: take a longer piece
    return end


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
) -> None:
    reader, writer = await open_stdio(stdin or sys.stdin.buffer, stdout or sys.stdout.buffer,
                                      max_message_bytes)
    protocol.set_writer(writer)

    def send_raw(message: dict[str, Any]) -> None:
        writer.write_message(orjson.dumps(message))

    await serve_stream(reader, protocol, send_raw)


def detach_stdout() -> BinaryIO:
    """Take stdout for the wire and point fd 1 at stderr, so stray prints cannot corrupt it."""
    wire = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return wire
