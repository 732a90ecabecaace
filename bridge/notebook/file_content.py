"""The file inside a large `notebook/deserialize` message, decoded from the message body
straight to UTF-8 bytes.

A notebook sent as `content` (JSON text) or `contentBase64` is most of its message.
Parsed whole, `content` becomes one str (4 bytes a character once a single emoji is in
it) that then has to be encoded back to UTF-8 for parsing. Here the string is decoded
from the body piece by piece: each piece ends where an escape starts (never inside a
character or a surrogate pair), and orjson checks it as a string of its own, so the
pieces decode exactly as the whole would. Anything unexpected (another method, a long
member after the file, a bad escape) leaves the message to the general parse, which
gives the usual answer.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable
from typing import Any

import orjson
import pybase64

_FILE_MEMBER = re.compile(rb'"(content|contentBase64)"\s*:\s*"')
_KEY_WITHIN = 4096  # the file's key is near the start of the message
_STRING_PIECE = 1 << 16
_NON_ASCII_PIECE = 1 << 11
_TAIL = 16 << 10  # the members after the file (a partialResultToken, ...) are short

_HIGH_SURROGATES = (b"d8", b"d9", b"da", b"db")
_NOT_BACKSLASH = re.compile(rb"[^\\]")

Body = bytes | bytearray


def _decode_text(body: Body, start: int, end: int) -> bytes | None:
    pieces: list[bytes] = []
    position = start
    try:
        while position < end:
            cut = _piece_end(body, position + _STRING_PIECE, end)
            piece = body[position:cut]
            if piece.isascii():
                pieces.append(_decoded(piece))
            else:
                # One emoji makes a piece's str 4 bytes a character, slow to make and to
                # encode: smaller pieces keep that to the few around it.
                while position < cut:
                    small = _piece_end(body, position + _NON_ASCII_PIECE, cut)
                    pieces.append(_decoded(body[position:small]))
                    position = small
            position = cut
    except orjson.JSONDecodeError:
        return None
    return b"".join(pieces)


def _decoded(piece: Body) -> bytes:
    text: str = orjson.loads(b'"' + piece + b'"')
    return text.encode("utf-8")


def _decode_base64(body: Body, start: int, end: int) -> bytes | None:
    try:
        # The base64 alphabet has no quote or backslash: a slice that decodes cleanly is
        # exactly the string's value.
        return pybase64.b64decode(memoryview(body)[start:end], validate=True)
    except (binascii.Error, ValueError):
        return None


def _piece_end(body: Body, position: int, end: int) -> int:
    """Where a piece of a JSON string's text that reaches at least to `position` can end:
    the next escape (a backslash after anything but a backslash starts one; in a run of
    them, where each escape starts is not known), unless it is the second half of a
    surrogate pair. `end` if there is none."""
    find = body.find
    while position < end and (cut := find(b"\\", position, end)) >= 0:
        if body[cut - 1] == 0x5C:  # inside a run of backslashes: look after it
            after = _NOT_BACKSLASH.search(body, cut, end)
            position = after.start() if after else end
        elif (body[cut + 1] == 0x75 and body[cut - 6] == 0x5C and body[cut - 5] == 0x75
              and body[cut - 4:cut - 2].lower() in _HIGH_SURROGATES):
            position = cut + 1
        else:
            return cut
    return end


def _string_end(body: Body, start: int, base64: bool) -> int:
    """The closing quote of the string that starts at `start`, or -1.

    Base64 has no quote in it: the first quote ends it. A text's last unescaped quote
    is looked for near the end of the message only; if the members after it are longer
    than that, the quote found belongs to one of them, the piece before it does not
    decode (it holds a bare quote), and the general parse answers.
    """
    if base64:
        return body.find(b'"', start)
    position = max(start, len(body) - _TAIL)
    while (quote := body.find(b'"', position)) >= 0:
        backslashes = 0
        while body[quote - 1 - backslashes] == 0x5C:
            backslashes += 1
        if backslashes % 2 == 0:
            return quote
        position = quote + 1
    return -1


def parse_body(method: str) -> Callable[[Body], Any]:
    """A parser for large message bodies: orjson.loads, except that the file of a
    `method` request (`content` or `contentBase64`) comes decoded to UTF-8 bytes."""

    def parse(body: Body) -> Any:
        found = split_file_content(body, method)
        return found if found is not None else orjson.loads(body)

    return parse


def split_file_content(body: Body, method: str) -> dict[str, Any] | None:
    """The `method` message with its `params.content(Base64)` already decoded to bytes,
    or None when the body is not plainly that: the general path then parses it."""
    key = _FILE_MEMBER.search(body, 0, _KEY_WITHIN)
    if key is None:
        return None
    start, name = key.end(), key.group(1)
    end = _string_end(body, start, base64=name == b"contentBase64")
    if end < 0:
        return None
    rest = body[:start] + body[end:]
    if rest.count(b'"%b"' % name) != 1:
        return None
    try:
        message = orjson.loads(rest)
    except orjson.JSONDecodeError:
        return None
    member = name.decode()
    params = message.get("params") if isinstance(message, dict) else None
    if (not isinstance(params, dict) or params.get(member) != ""
            or message.get("method") != method):
        return None
    decode = _decode_base64 if member == "contentBase64" else _decode_text
    value = decode(body, start, end)
    if value is None:
        return None
    params[member] = value
    found: dict[str, Any] = message
    return found
