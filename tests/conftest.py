from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

# Kernels are the bridge's own children unless a test asks for the kernel host (tests/host),
# and no test reaches the user's own kernel host.
os.environ.setdefault("NBBRIDGE_KERNELS", "direct")
os.environ.setdefault("NBBRIDGE_RUNTIME_DIR", tempfile.mkdtemp(prefix="nbh-"))

from bridge_client import BridgeClient

CORPUS = Path(os.environ.get(
    "NBBRIDGE_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))


@pytest.fixture
async def bridge() -> AsyncIterator[BridgeClient]:
    """A running `nbbridge serve`, initialized, spoken to over its stdio pipes."""
    client = await BridgeClient.start()
    await client.initialize()
    yield client
    await client.shutdown()
