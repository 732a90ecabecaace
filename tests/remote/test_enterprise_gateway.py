"""Jupyter Enterprise Gateway (its own venv, `make gateways`): start, run, interrupt,
restart and shut down a kernel through it."""

from __future__ import annotations

import asyncio
import os
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge_client import BridgeClient
from kernels.kernel_helpers import run, sleeping
from remote_servers import ENTERPRISE_GATEWAY, RunningServer, start_enterprise_gateway

pytestmark = pytest.mark.enterprise_gateway


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    if not (ENTERPRISE_GATEWAY / "bin" / "jupyter-enterprisegateway").exists():
        message = "Enterprise Gateway is not installed: `make gateways` installs it"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    server = start_enterprise_gateway(tmp_path_factory.mktemp("enterprise_gateway"))
    yield server
    server.stop()


async def test_a_kernel_through_enterprise_gateway(gateway: RunningServer,
                                                   tmp_path: Path) -> None:
    client = await BridgeClient.start()
    try:
        await client.initialize()
        added = await client.request("kernel/servers/add", {"url": gateway.url,
                                                            "token": gateway.token})
        assert added["hasSessions"] is False
        started = await client.request("kernel/start", {"serverId": added["serverId"]})
        kernel_id = started["kernelId"]
        cell = await run(client, kernel_id, "import sys; print(sys.prefix)")
        assert cell.text() == f"{ENTERPRISE_GATEWAY}\n"
        running = await sleeping(client, kernel_id, "go")
        await client.request("kernel/interrupt", {"kernelId": kernel_id})
        interrupted = await asyncio.wait_for(running, 30)
        assert interrupted.outputs[-1]["ename"] == "KeyboardInterrupt"
        await run(client, kernel_id, "x = 1")
        await client.request("kernel/restart", {"kernelId": kernel_id})
        assert (await run(client, kernel_id, "print('x' in dir())")).text() == "False\n"
        await client.request("kernel/shutdown", {"kernelId": kernel_id})
        # the gateway lists no kernels by default: ask for this one
        with pytest.raises(urllib.error.HTTPError) as gone:
            gateway.api(f"api/kernels/{started['remoteKernelId']}")
        assert gone.value.code == 404
    finally:
        await client.shutdown()
