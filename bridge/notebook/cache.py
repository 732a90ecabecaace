"""The written text of recently read or written cells, looked up by the cell's content.

Saving a large notebook re-encodes every cell although the user changed one or two; the
text of an unchanged cell is already known from reading (or from the last save), so
saving looks it up by a hash of the cell object as the client sent it. A miss only costs
the encoding. The cache is bounded by the characters it holds.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import orjson

DEFAULT_MAX_CHARS = 512 << 20

ROLE_CELL, ROLE_HEAD, ROLE_TAIL = 0, 1, 2

CellKey = tuple[int, int, int, int]
Known = tuple[str, "str | None"]  # the text, and the separator before it if unusual


def cell_key(role: int, style_key: int, part: Any) -> CellKey:
    """A key for what `part` (a cell, or the notebook without cells) is written as."""
    data = orjson.dumps(part)
    return role, style_key, len(data), hash(data)


class TextCache:
    """LRU of cell key -> (text, separator before it); the codec's threads share it."""

    def __init__(self, max_chars: int = DEFAULT_MAX_CHARS) -> None:
        self.max_chars = max_chars
        self._texts: OrderedDict[CellKey, Known] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def get(self, key: CellKey) -> Known | None:
        with self._lock:
            text = self._texts.get(key)
            if text is not None:
                self._texts.move_to_end(key)
            return text

    def put(self, key: CellKey, known: Known) -> None:
        if len(known[0]) > self.max_chars:
            return
        with self._lock:
            old = self._texts.pop(key, None)
            if old is not None:
                self._chars -= len(old[0])
            self._texts[key] = known
            self._chars += len(known[0])
            while self._chars > self.max_chars:
                _, evicted = self._texts.popitem(last=False)
                self._chars -= len(evicted[0])

    def clear(self) -> None:
        with self._lock:
            self._texts.clear()
            self._chars = 0


cell_texts = TextCache()
