"""Kernels on a real jupyter_server and Kernel Gateway, through the bridge."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bridge_client import BridgeClient, RpcError
from kernels.kernel_helpers import queue, run
from servers import RunningServer

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_the_servers_kernelspecs_and_running_kernels_are_listed(
        remote_bridge: tuple[BridgeClient, str], remote_kernel: dict[str, Any],
        server: RunningServer) -> None:
    client, server_id = remote_bridge
    listed = await client.request("kernel/servers/kernels", {"serverId": server_id})
    assert "python3" in [spec["name"] for spec in listed["specs"]]
    running = {k["id"]: k for k in listed["running"]}
    assert remote_kernel["remoteKernelId"] in running
    assert remote_kernel["serverId"] == server_id
    assert remote_kernel["transport"] == "websocket"
    servers = await client.request("kernel/servers/list", {})
    assert [s["serverId"] for s in servers["servers"]] == [server_id]
    assert server.token not in str(servers)


async def test_a_cell_streams_its_outputs(remote_bridge: tuple[BridgeClient, str],
                                         remote_kernel: dict[str, Any]) -> None:
    client, _ = remote_bridge
    cell = await run(client, remote_kernel["kernelId"],
                     "import sys\nfor i in range(3): print(i)\n"
                     "print('e', file=sys.stderr)\n6*7")
    assert cell.status == "ok"
    assert cell.text() == "0\n1\n2\n"
    assert cell.text("stderr") == "e\n"
    assert cell.outputs[-1]["output_type"] == "execute_result"
    assert cell.outputs[-1]["data"]["text/plain"] == "42"


async def test_interrupt_stops_a_long_sleep(remote_bridge: tuple[BridgeClient, str],
                                           remote_kernel: dict[str, Any]) -> None:
    client, _ = remote_bridge
    kernel_id = remote_kernel["kernelId"]
    running = await queue(client, kernel_id, "import time; print('go', flush=True); "
                          "time.sleep(60)")
    await client.wait_for_notification(
        "kernel/output", lambda n: any(op.get("text") == "go\n" for op in n["ops"]))
    await client.request("kernel/interrupt", {"kernelId": kernel_id})
    cell = await asyncio.wait_for(running, 20)
    assert cell.status == "error"
    assert cell.outputs[-1]["ename"] == "KeyboardInterrupt"
    after = await run(client, kernel_id, "print('still here')")
    assert after.text() == "still here\n"
