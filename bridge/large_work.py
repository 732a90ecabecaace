"""Large work: the thread that reads and writes large notebooks, the garbage collector's
pause meanwhile, and the allocator policy that keeps freed memory for the next request.

Large reads and writes take turns on their own thread (they would contend for the GIL
anyway), which leaves the default executor free for file work such as checkpoints.
Parsing a large notebook makes many objects and no cycles, so the cyclic collector
waits while any thread is inside `collector_paused()`; what is alive after is frozen
until the idle release. docs/performance.md has the measurements behind each choice.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ctypes
import ctypes.util
import functools
import gc
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_holders = 0
_was_enabled = False

_large_work = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="nbbridge-large")
IDLE_SECONDS = 5.0
_idle_release: asyncio.TimerHandle | None = None

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
                # What was made meanwhile is young to the collector, which would walk
                # all of it at its next turn: set it aside until the idle release.
                gc.freeze()
                gc.enable()


async def run_large(function: Callable[Params, Result], *args: Params.args,
                    **kwargs: Params.kwargs) -> Result:
    """`function(*args)` on the large-notebook thread, with the collector paused."""

    def paused() -> Result:
        with collector_paused():
            return function(*args, **kwargs)

    return await asyncio.get_running_loop().run_in_executor(_large_work, paused)


def release_memory_when_idle(delay: float = IDLE_SECONDS) -> None:
    """Release memory once `delay` seconds pass without another large read or save: an
    editor opening or saving notebooks one after another reuses the memory meanwhile
    instead of faulting it in again."""
    global _idle_release
    loop = asyncio.get_running_loop()
    if _idle_release is not None:
        _idle_release.cancel()
    _idle_release = loop.call_later(
        delay, lambda: loop.run_in_executor(_large_work, lambda: release_memory()))


def release_memory() -> None:
    """Collect cycles and hand freed memory back to the system: reading a large notebook
    leaves hundreds of MB free inside the process, which glibc keeps otherwise."""
    gc.unfreeze()
    gc.collect()
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
_KEPT_BLOCK_BYTES = 1 << 30  # mallopt takes a C int
_NEVER = -1


def keep_freed_memory() -> bool:
    """Serve blocks up to 1 GiB from glibc's heap and keep freed memory there until
    `release_memory` trims it. One arena for every thread: a thread's own arena maps any
    block over 64 MB on its own whatever the threshold. No trimming on free at any
    size: orjson reserves its output buffer for the worst case, so the heap's free top
    passes any threshold now and then, and trimming there would hand back the memory
    the next request needs (most of it never touched costs nothing resident). False
    when the C library is not glibc (nothing changes then)."""
    libc = _glibc()
    if libc is None:
        return False
    return all(libc.mallopt(option, value) == 1 for option, value in (
        (_M_ARENA_MAX, 1), (_M_MMAP_THRESHOLD, _KEPT_BLOCK_BYTES),
        (_M_TRIM_THRESHOLD, _NEVER)))


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    if not (hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt")):
        logger.debug("%s is not glibc: its memory is left as it is", name)
        return None
    return libc
