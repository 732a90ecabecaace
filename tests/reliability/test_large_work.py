"""The cyclic garbage collector pauses while any thread reads or writes a large notebook."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import textwrap
import threading
import time
import weakref

import pytest

from bridge import large_work
from bridge.large_work import collector_paused, release_memory, run_large


def test_paused_while_any_holder_is_inside_and_back_after() -> None:
    assert gc.isenabled()
    entered, leave = threading.Event(), threading.Event()

    def hold() -> None:
        with collector_paused():
            entered.set()
            leave.wait(10)

    other = threading.Thread(target=hold)
    other.start()
    entered.wait(10)
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled(), "the other thread is still inside"
    leave.set()
    other.join(10)
    assert gc.isenabled()
    assert asyncio.run(run_large(gc.isenabled)) is False
    assert gc.isenabled()


def test_a_collector_switched_off_before_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_error_inside_still_resumes_the_collector() -> None:
    try:
        with collector_paused():
            raise ValueError("boom")
    except ValueError:
        pass
    assert gc.isenabled()


def test_what_was_made_while_paused_waits_for_the_idle_release() -> None:
    """A read's million objects are not walked by the next collection after it; a cycle
    made meanwhile is still collected when the memory is released."""
    class Node:
        partner: Node

    release_memory()
    with collector_paused():
        kept = [[number] for number in range(100_000)]
        cycle_a, cycle_b = Node(), Node()
        cycle_a.partner, cycle_b.partner = cycle_b, cycle_a
        gone = weakref.ref(cycle_a)
        del cycle_a, cycle_b
    assert gc.get_freeze_count() >= len(kept)
    assert gc.get_count()[0] < 1000
    gc.collect()
    assert gone() is not None, "set aside: not walked by an ordinary collection"
    release_memory()
    assert gc.get_freeze_count() == 0
    assert gone() is None
    del kept


def test_released_memory_goes_back_to_the_system() -> None:
    """Strings of a few KB made in a worker thread (as a read makes outputs) stay in
    glibc's heap once freed, pinned by small objects made between them, until trimmed."""
    def resident_mb() -> float:
        for line in open("/proc/self/status", encoding="ascii"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise LookupError("no VmRSS")

    kept: list[bytes] = []
    made: list[str] = []

    def read_like() -> None:
        for number in range(10_000):
            made.append(f"x{number}" * 6000)
            kept.append(bytes(600))

    release_memory()
    before = resident_mb()
    worker = threading.Thread(target=read_like)
    worker.start()
    worker.join()
    grown = resident_mb()
    made.clear()
    release_memory()
    assert grown - before > 150
    assert resident_mb() - before < (grown - before) / 3


_FREED_BLOCK_SCRIPT = textwrap.dedent("""
    import ctypes, sys, threading
    from bridge.large_work import _glibc, keep_freed_memory, release_memory

    def resident_mb():
        for line in open("/proc/self/status", encoding="ascii"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024

    kept = sys.argv[1] == "kept" and keep_freed_memory()
    before = resident_mb()
    def read_like():
        block = bytearray(200 << 20)
        # a buffer reserved for the worst case and hardly touched (orjson's output):
        # freed with the block, the heap's free top passes 1 GiB
        libc = _glibc()
        libc.malloc.restype = ctypes.c_void_p
        libc.free.argtypes = [ctypes.c_void_p]
        libc.free(libc.malloc(900 << 20))
        del block

    # made and freed in a worker thread, as large reads are
    worker = threading.Thread(target=read_like)
    worker.start()
    worker.join()
    after_free = resident_mb()
    release_memory()
    print(kept, before, after_free, resident_mb())
""")


@pytest.mark.parametrize("mode", ["kept", "default"])
def test_a_freed_large_block_stays_for_the_next_request_until_released(mode: str) -> None:
    """A freed 200 MB block stays in the process (the next large read reuses it instead
    of faulting fresh pages in) until the idle release, however much free memory the
    heap has; glibc's default unmaps it."""
    printed = subprocess.run([sys.executable, "-c", _FREED_BLOCK_SCRIPT, mode],
                             capture_output=True, text=True, check=True).stdout.split()
    kept, before, after_free, released = printed[0], *map(int, printed[1:])
    if mode == "kept":
        assert kept == "True"
        assert after_free - before > 150
    else:
        assert after_free - before < 50
    assert released - before < 50


def test_memory_is_released_once_no_large_request_came_for_a_while(
        monkeypatch: pytest.MonkeyPatch) -> None:
    released: list[float] = []
    done = threading.Event()

    def release() -> None:
        released.append(time.monotonic())
        done.set()

    monkeypatch.setattr(large_work, "release_memory", release)

    async def main() -> float:
        start = time.monotonic()
        large_work.release_memory_when_idle(0.2)
        await asyncio.sleep(0.1)
        large_work.release_memory_when_idle(0.2)  # another large read: the wait starts over
        await asyncio.to_thread(done.wait, 10)
        await asyncio.sleep(0.3)
        return start

    start = asyncio.run(main())
    assert len(released) == 1 and released[0] - start >= 0.3
