"""A notebook file as head + cells + tail, and the check that writing reproduces it.

The file is cut into the text before the first cell (head), each cell (with the
separator before it) and the text after the last cell (tail). Writing encodes each
part in the file's style; reading checks every part against the original text and,
for a part that would come out differently, keeps the original text with a digest of
what the encoder makes of it. When saving, a part whose encoding still has that digest
is written as the original text: untouched parts stay byte-identical, edited ones are
written in the file's style.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, AnyStr

from bridge.notebook.style import Encoder

CELL_DEPTH = 2
_MARKER = "\x00nbbridge-cells\x00"
_decoder = json.JSONDecoder()
_WHITESPACE = " \t\n\r"


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def skeleton(top: dict[str, Any], has_cells: bool, encoder: Encoder) -> tuple[str, str]:
    """The head and tail of the file: everything but the cells' own text."""
    if not has_cells:
        return encoder.encode(top).decode() + encoder.style.trailer, ""
    marked = {key: ([_MARKER] if key == "cells" else value) for key, value in top.items()}
    text = encoder.encode(marked).decode()
    marker = json.dumps(_MARKER)
    start = text.index(marker)
    return text[:start], text[start + len(marker):] + encoder.style.trailer


@dataclass
class Verified:
    """How the original text differs from what writing the parsed notebook gives."""

    pieces: list[str]  # each cell as the encoder writes it
    originals: list[str | None]  # a cell's original text where it differs from its piece
    befores: list[str | None]  # the separator before a cell where it is not the usual one
    head: tuple[str, str] | None = None  # (original, encoded) where they differ
    tail: tuple[str, str] | None = None
    whole: tuple[str, str] | None = None  # cells could not be located: the whole file


def verify(
    data: str | bytes, top: dict[str, Any], file_cells: list[dict[str, Any]],
    encoder: Encoder,
) -> Verified:
    """Compare writing `top` with `file_cells` (as the writer rebuilds them) to the file
    (its text, or its UTF-8 bytes: then the file is decoded only if it differs, since
    one str of a large file takes 4 bytes a character once an emoji is in it)."""
    head, tail = skeleton(top, bool(file_cells), encoder)
    encoded = [encoder.encode(cell, CELL_DEPTH) for cell in file_cells]
    separator_bytes = encoder.separator(CELL_DEPTH)
    same = (_matches_in_order(data, head.encode(), encoded, separator_bytes, tail.encode())
            if isinstance(data, bytes) else None)
    pieces = [piece.decode() for piece in encoded]
    del encoded
    found = Verified(pieces, [None] * len(pieces), [None] * len(pieces))
    if same:
        return found
    text = data.decode("utf-8", "surrogatepass") if isinstance(data, bytes) else data
    separator = separator_bytes.decode()
    if same is None and _matches_in_order(text, head, pieces, separator, tail):
        return found
    spans = cell_spans(text)
    if spans is None or len(spans) != len(pieces):
        found.whole = (text, head + separator.join(pieces) + tail)
        return found
    original_head = text[: spans[0][0]] if spans else text
    original_tail = text[spans[-1][1]:] if spans else ""
    if original_head != head or original_tail != tail:
        # both kept: a change to the notebook's members is written into the two together
        found.head = (original_head, head)
        if spans:
            found.tail = (original_tail, tail)
    for index, ((start, end), piece) in enumerate(zip(spans, pieces, strict=True)):
        if text[start:end] != piece:
            found.originals[index] = text[start:end]
        if index and text[spans[index - 1][1]:start] != separator:
            found.befores[index] = text[spans[index - 1][1]:start]
    return found


def _matches_in_order(
    text: AnyStr, head: AnyStr, pieces: list[AnyStr], separator: AnyStr, tail: AnyStr
) -> bool:
    if not text.startswith(head):
        return False
    position = len(head)
    for index, piece in enumerate(pieces):
        if index:
            if not text.startswith(separator, position):
                return False
            position += len(separator)
        if not text.startswith(piece, position):
            return False
        position += len(piece)
    return len(text) - position == len(tail) and text.endswith(tail)


def verbatim_record(original: str, encoded: str) -> dict[str, str]:
    """What rides in `codec.verbatim`: the original text and a digest of its encoding."""
    return {"text": original, "digest": digest(encoded.encode("utf-8", "surrogatepass"))}


def use_verbatim(record: Any, encoded: str) -> str:
    """The original text if `record` still describes `encoded`, else `encoded`."""
    if (
        isinstance(record, dict)
        and isinstance(record.get("text"), str)
        and record.get("digest") == digest(encoded.encode("utf-8", "surrogatepass"))
    ):
        text: str = record["text"]
        return text
    return encoded


def cell_spans(text: str) -> list[tuple[int, int]] | None:
    """Start and end of each element of the top-level "cells" array, or None."""
    index = _skip(text, 0)
    if not text.startswith("{", index):
        return None
    index += 1
    try:
        while True:
            index = _skip(text, index)
            if text.startswith("}", index):
                return None
            key, index = _decoder.raw_decode(text, index)
            index = _skip(text, index)
            if not text.startswith(":", index):
                return None
            index = _skip(text, index + 1)
            if key == "cells" and text.startswith("[", index):
                return _array_spans(text, index + 1)
            _, index = _decoder.raw_decode(text, index)
            index = _skip(text, index)
            if text.startswith(",", index):
                index += 1
    except (ValueError, IndexError):
        return None


def _array_spans(text: str, index: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    while True:
        index = _skip(text, index)
        if text.startswith("]", index):
            return spans
        _, end = _decoder.raw_decode(text, index)
        spans.append((index, end))
        index = _skip(text, end)
        if text.startswith(",", index):
            index += 1


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in _WHITESPACE:
        index += 1
    return index
