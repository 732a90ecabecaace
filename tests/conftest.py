from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

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
