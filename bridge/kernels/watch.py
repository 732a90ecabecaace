"""Noticing that a kernel process ended, at once where the OS allows it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from typing import Any

POLL_SECONDS = 0.25


def describe_exit(returncode: int | None) -> str:
    """'the kernel died (killed by SIGKILL)' and the like."""
    if returncode is None:
        return "the kernel died"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"the kernel died (killed by {name})"
    return f"the kernel died (exit code {returncode})"


async def watch_process(manager: Any) -> str:
    """Wait until the kernel process ends; return why, for the user.

    A local process is watched through a pidfd (the loop wakes the moment it exits);
    other provisioners are polled.
    """
    process = getattr(manager.provisioner, "process", None)
    pid = getattr(process, "pid", None)
    if process is not None and pid is not None and hasattr(os, "pidfd_open"):
        try:
            fd = os.pidfd_open(pid)
        except OSError:
            fd = -1
        if fd >= 0:
            loop = asyncio.get_running_loop()
            ended: asyncio.Future[None] = loop.create_future()

            def on_exit() -> None:
                if not ended.done():
                    ended.set_result(None)

            loop.add_reader(fd, on_exit)
            try:
                if process.poll() is None:
                    await ended
            finally:
                loop.remove_reader(fd)
                os.close(fd)
            # the pidfd is readable on exit; reaping may lag by a moment
            for _ in range(100):
                if process.poll() is not None:
                    break
                await asyncio.sleep(0.01)
            return describe_exit(process.returncode)
    while True:
        await asyncio.sleep(POLL_SECONDS)
        with contextlib.suppress(Exception):
            if not await manager.is_alive():
                code = getattr(process, "returncode", None) if process is not None else None
                return describe_exit(code)
