"""Servers (one of each kind per module), and a bridge connected to one."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bridge_client import BridgeClient, RpcError
from remote_servers import RunningServer, start_jupyter_server, start_kernel_gateway

KINDS = ["jupyter_server", "kernel_gateway"]


def start(kind: str, base: Path) -> RunningServer:
    return start_jupyter_server(base) if kind == "jupyter_server" else start_kernel_gateway(base)


@pytest.fixture(scope="module", params=KINDS)
def server(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start(request.param, tmp_path_factory.mktemp(request.param))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def jupyter_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_jupyter_server(tmp_path_factory.mktemp("jupyter_server"))
    yield running
    running.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def remote_bridge(server: RunningServer) -> AsyncIterator[tuple[BridgeClient, str]]:
    """A bridge with `server` added: (client, serverId)."""
    client = await BridgeClient.start()
    await client.initialize()
    added = await client.request("kernel/servers/add", {"url": server.url,
                                                        "token": server.token})
    yield client, added["serverId"]
    await client.shutdown()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def remote_kernel(remote_bridge: tuple[BridgeClient, str]
                        ) -> AsyncIterator[dict[str, Any]]:
    client, server_id = remote_bridge
    started = await client.request("kernel/start", {"serverId": server_id,
                                                    "kernelName": "python3"})
    yield started
    with contextlib.suppress(RpcError, ConnectionError):
        await client.request("kernel/shutdown", {"kernelId": started["kernelId"]})
