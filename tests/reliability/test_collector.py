"""The cyclic garbage collector pauses while any thread reads or writes a large notebook."""

from __future__ import annotations

import gc
import threading

from bridge.collector import collector_paused, with_collector_paused


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
    assert with_collector_paused(gc.isenabled)() is False
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
