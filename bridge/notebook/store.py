"""What a bridge keeps of recently read and written notebooks, to save them faster.

Saving a large notebook re-encodes every cell although the user changed one or two; the
text of an unchanged cell is already known from reading (or from the last save), so
saving looks it up by a hash of the cell object as the client sent it. A miss only costs
the encoding.

The outputs of each code cell read are kept too, under the token its `codec.outputs`
carries: a client whose outputs are unchanged may send that token instead of them (most
of a large notebook's bytes). Both stores are bounded; an evicted token is answered with
an error that asks for the outputs in full.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import orjson

DEFAULT_MAX_CHARS = 512 << 20
DEFAULT_MAX_OUTPUT_BYTES = 1 << 30

ROLE_CELL, ROLE_HEAD, ROLE_TAIL = 0, 1, 2

CellKey = tuple[int, int, int, int]
Known = tuple[str, "str | None"]  # the text, and the separator before it if unusual

Key = TypeVar("Key")
Value = TypeVar("Value")


def cell_key(role: int, style_key: int, part: Any) -> CellKey:
    """A key for what `part` (a cell, or the notebook without cells; or a list of them
    with other values) is written as. Only the part's own members are sorted: a client
    sends those in its own order, but keeps the order within them (metadata), which two
    files with the same content may write differently. (A JavaScript client puts
    integer-like keys first in every object: such a part is only a miss.)"""
    data = orjson.dumps(_members_sorted(part))
    return role, style_key, len(data), hash(data)


def _members_sorted(part: Any) -> Any:
    if isinstance(part, dict):
        return {name: part[name] for name in sorted(part)}
    if isinstance(part, list):
        return [_members_sorted(item) if isinstance(item, dict) else item for item in part]
    return part


class BoundedCache(Generic[Key, Value]):
    """LRU bounded by the summed size of its values; the codec's threads share it."""

    def __init__(self, max_size: int, size: Callable[[Value], int]) -> None:
        self.max_size = max_size
        self._size = size
        self._values: OrderedDict[Key, Value] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()

    def get(self, key: Key) -> Value | None:
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def put(self, key: Key, value: Value) -> None:
        size = self._size(value)
        if size > self.max_size:
            return
        with self._lock:
            old = self._values.pop(key, None)
            if old is not None:
                self._total -= self._size(old)
            self._values[key] = value
            self._total += size
            while self._total > self.max_size:
                _, evicted = self._values.popitem(last=False)
                self._total -= self._size(evicted)

    def discard(self, key: Key) -> None:
        with self._lock:
            old = self._values.pop(key, None)
            if old is not None:
                self._total -= self._size(old)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._total = 0


OutputsKey = tuple[int, int]


def outputs_key(data: bytes) -> OutputsKey:
    """What identifies a cell's outputs (their JSON) in the store."""
    return len(data), hash(data)


class NotebookStore:
    """What one bridge keeps of the notebooks it read and wrote: each part's text by its
    key, each read code cell's outputs under a token, and the work still running after a
    reply (a save waits for it). One per server; nothing is shared between bridges."""

    def __init__(self, max_chars: int = DEFAULT_MAX_CHARS,
                 max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES) -> None:
        self.cell_texts: BoundedCache[CellKey, Known] = BoundedCache(
            max_chars, lambda known: len(known[0]))
        # Outputs are kept once per content, however often the notebook is read; a token
        # (one per cell and read) names the content it was given for.
        self._outputs: BoundedCache[OutputsKey, bytes] = BoundedCache(max_output_bytes, len)
        self._tokens: BoundedCache[str, OutputsKey] = BoundedCache(1 << 22, lambda _: 1)
        # Tokens name this store: another bridge (after a restart) knows none of them.
        self._token_prefix = secrets.token_hex(4)
        self._token_numbers = itertools.count(1)
        self.pending_work: set[asyncio.Future[None]] = set()

    def new_outputs_token(self) -> str:
        return f"{self._token_prefix}-{next(self._token_numbers)}"

    def sent_outputs_key(self, data: bytes, token: str) -> OutputsKey:
        """The key of outputs sent in full by a cell that was read with `token`: when
        they are still those the token was given for (most are), comparing is cheaper
        than hashing them."""
        key = self._tokens.get(token)
        if key is not None and self._outputs.get(key) == data:
            return key
        return outputs_key(data)

    def remember_outputs(self, token: str, data: bytes) -> None:
        key = outputs_key(data)
        if self._outputs.get(key) is None:
            # A copy of its own size: orjson's bytes keep the larger buffer they were
            # written in as long as they live.
            self._outputs.put(key, bytes(memoryview(data)))
        self._tokens.put(token, key)

    def token_outputs_key(self, token: str) -> OutputsKey | None:
        """The outputs a token was given for, if this bridge still knows."""
        return self._tokens.get(token)

    def token_outputs(self, token: str) -> bytes | None:
        """The outputs' JSON a token was given for, if still kept."""
        key = self._tokens.get(token)
        return None if key is None else self._outputs.get(key)

    def forget_outputs(self) -> None:
        self._outputs.clear()
        self._tokens.clear()

    def after(self, work: asyncio.Future[None]) -> None:
        """Keep track of `work` until it is done: `settled` waits for it."""
        self.pending_work.add(work)
        work.add_done_callback(self.pending_work.discard)

    async def settled(self) -> None:
        """Wait for the work still running after earlier replies."""
        if self.pending_work:
            await asyncio.gather(*self.pending_work, return_exceptions=True)
