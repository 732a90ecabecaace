"""What the codec keeps or sends holds no more memory than its bytes.

orjson sizes the buffer it writes a string into for the worst case (~13 bytes a
character) and the bytes it returns keep all of it as long as they live: a read's kept
outputs, or a save's 4000 escaped cells, would hold ten times their size.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from bridge.notebook.store import NotebookStore
from bridge.notebook.writing import write_notebook_json

COUNT, SIZE = 200, 40_000


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def _allocated() -> Callable[[], int]:
    """Bytes glibc has handed out (heap and mapped), read at each call."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    if not hasattr(libc, "mallinfo2"):
        pytest.skip("needs glibc 2.33 or later (mallinfo2)")
    libc.mallinfo2.restype = _MallInfo2

    def read() -> int:
        info = libc.mallinfo2()
        return int(info.uordblks + info.hblkhd)
    return read


def _held(make: Callable[[], Any]) -> int:
    allocated = _allocated()
    before = allocated()
    kept = make()
    grown = allocated() - before
    del kept
    return grown


def test_kept_outputs_hold_about_their_size() -> None:
    store = NotebookStore()

    def keep() -> None:
        for number in range(COUNT):
            text = f"{number:08d}" + "x" * SIZE
            store.remember_outputs(f"t-{number}", orjson.dumps([{"output_type": "stream",
                                                          "name": "stdout", "text": text}]))
    assert _held(keep) < 2 * COUNT * SIZE
    assert orjson.loads(store.token_outputs(f"t-{COUNT - 1}") or b"")[0]["text"].startswith(
        f"{COUNT - 1:08d}")


def test_a_saves_escaped_pieces_hold_about_their_size() -> None:
    notebook = {"cells": [{"kind": "code", "source": f"{number:08d}" + "y" * SIZE}
                          for number in range(COUNT)],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 4}
    pieces: list[bytes] = []
    store = NotebookStore()
    assert _held(lambda: pieces.extend(write_notebook_json(notebook, store))) < 3 * COUNT * SIZE
    assert sum(map(len, pieces)) > COUNT * SIZE
