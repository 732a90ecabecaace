"""Bridges whose kernels live in a kernel host of the test's own (its own runtime folder),
and the host's end at the test's end."""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bridge.kernels.host.place import HostPlace, host_pid

from host.host_helpers import Hosted


@pytest.fixture
def host_folder() -> Iterator[Path]:
    base = tempfile.mkdtemp(prefix="nbh-")
    folder = Path(base) / "host"
    yield folder
    # the host outlives its bridges by design: end it with the test
    pid = host_pid(HostPlace(folder)) if folder.exists() else None
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


@pytest.fixture
async def hosted(host_folder: Path) -> AsyncIterator[Hosted]:
    hosted = Hosted(host_folder)
    yield hosted
    for client in hosted.bridges:
        if client.process.returncode is None:
            with contextlib.suppress(Exception):
                await client.shutdown()
