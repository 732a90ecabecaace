"""Bridges that see the other-language kernels `make kernels` installs under .tools/kernels
(registered through JUPYTER_PATH for these tests only)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bridge_client import BridgeClient

# the kernel tests' helpers (run, queue, wait_until) serve these tests too
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "kernels"))

KERNELS = Path(__file__).resolve().parents[2] / ".tools" / "kernels" / "jupyter"
# R comes from Debian's r-cran-irkernel, which not every machine's package lists hold
OPTIONAL = {"ir"}


def kernel_env() -> dict[str, str]:
    return {"JUPYTER_PATH": os.pathsep.join(
        [str(KERNELS), *filter(None, [os.environ.get("JUPYTER_PATH")])])}


def require_kernel(name: str) -> dict[str, Any]:
    """The kernelspec `name` from .tools/kernels; a missing one fails (`make kernels`
    installs it), but for R where the machine has no Debian package for it."""
    spec_file = KERNELS / "kernels" / name / "kernel.json"
    if not spec_file.exists():
        if name in OPTIONAL:
            pytest.skip(f"kernel {name!r} is not installed here (no Debian package)")
        raise AssertionError(f"kernel {name!r} is missing: run `make kernels`")
    spec: dict[str, Any] = json.loads(spec_file.read_text())
    return spec


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def languages_bridge() -> AsyncIterator[BridgeClient]:
    """One bridge per module that sees every installed test kernel."""
    client = await BridgeClient.start(env=kernel_env())
    await client.initialize()
    yield client
    await client.shutdown()
