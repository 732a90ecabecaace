"""Pausing Python's cyclic garbage collector while a large notebook is read or written.

Parsing an 80 MB notebook makes a million dicts, lists and strings, none of them in a
cycle; meanwhile the collector, triggered by the count of new objects, walks every
object alive several times over (a quarter of the time a read takes). While any thread
is inside `collector_paused()` the collector waits; reference counting still frees
everything as usual.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

_lock = threading.Lock()
_holders = 0
_was_enabled = False

Params = ParamSpec("Params")
Result = TypeVar("Result")


@contextmanager
def collector_paused() -> Iterator[None]:
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()


def with_collector_paused(function: Callable[Params, Result]) -> Callable[Params, Result]:
    """`function`, run with the collector paused (for asyncio.to_thread)."""

    def paused(*args: Params.args, **kwargs: Params.kwargs) -> Result:
        with collector_paused():
            return function(*args, **kwargs)

    return paused
