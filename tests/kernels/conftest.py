"""One bridge and one kernel per test module (kernels are slow to start); tests that
need a fresh kernel start their own."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from bridge_client import BridgeClient, RpcError


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_bridge() -> AsyncIterator[BridgeClient]:
    client = await BridgeClient.start()
    await client.initialize()
    yield client
    await client.shutdown()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def kernel(module_bridge: BridgeClient) -> AsyncIterator[dict[str, Any]]:
    """A started kernel of ``module_bridge`` (the kernel/start result)."""
    started = await module_bridge.request("kernel/start", {})
    yield started
    with contextlib.suppress(RpcError, ConnectionError):
        await module_bridge.request("kernel/shutdown", {"kernelId": started["kernelId"]})
