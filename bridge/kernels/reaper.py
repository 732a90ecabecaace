"""Kernels never outlive the bridge, even one killed with SIGKILL.

ipykernel exits when its parent does, but not every kernel watches its parent (IRkernel
keeps running under init). A small companion process, started with the first kernel,
holds the process groups of the bridge's kernels and reads a pipe from the bridge: when
the pipe closes with groups still listed (the bridge died without stopping them), it
stops each group, SIGTERM then SIGKILL. One per bridge, not per kernel.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from typing import IO

logger = logging.getLogger(__name__)

GRACE_SECONDS = 2.0

# Runs with `python -S -c`: the standard library only, no site packages, so it starts in
# a few milliseconds and imports nothing of the bridge.
_COMPANION = f"""
import os, signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
groups = set()
for line in sys.stdin:
    sign, pgid = line[:1], int(line[1:])
    (groups.add if sign == "+" else groups.discard)(pgid)
def signal_all(signum):
    for pgid in list(groups):
        try:
            os.killpg(pgid, signum)
        except OSError:
            groups.discard(pgid)
signal_all(signal.SIGTERM)
deadline = time.monotonic() + {GRACE_SECONDS}
while groups and time.monotonic() < deadline:
    time.sleep(0.05)
    signal_all(0)
signal_all(signal.SIGKILL)
"""


class Reaper:
    """The bridge's end of the companion: tell it each kernel group that starts and ends."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._pipe: IO[bytes] | None = None
        self._groups: set[int] = set()

    def watch(self, pgid: int) -> None:
        if os.name != "posix" or pgid in self._groups:
            return
        if not self._write(f"+{pgid}\n"):
            return
        self._groups.add(pgid)

    def forget(self, pgid: int) -> None:
        if pgid in self._groups:
            self._groups.discard(pgid)
            self._write(f"-{pgid}\n")

    def close(self) -> None:
        """Stop the companion (after the kernels were stopped the normal way)."""
        for pgid in list(self._groups):
            self.forget(pgid)
        pipe, self._pipe = self._pipe, None
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()
        process, self._process = self._process, None
        if process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=1)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _write(self, line: str) -> bool:
        try:
            pipe = self._ensure_started()
            pipe.write(line.encode())
            pipe.flush()
        except OSError as exc:
            logger.warning("the kernel reaper is gone (%s); kernels rely on the bridge's "
                           "own shutdown", exc)
            return False
        return True

    def _ensure_started(self) -> IO[bytes]:
        if self._pipe is None:
            # its own session: a Ctrl-C in the terminal of `nbbridge run` does not reach it
            self._process = subprocess.Popen(
                [sys.executable, "-S", "-c", _COMPANION], stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL, start_new_session=True, close_fds=True)
            assert self._process.stdin is not None
            self._pipe = self._process.stdin
        return self._pipe
