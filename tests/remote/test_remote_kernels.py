"""Kernels on a real jupyter_server and Kernel Gateway, through the bridge."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bridge_client import BridgeClient, RpcError
from kernels.kernel_helpers import run, sleeping
from remote_servers import RunningServer

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
    running = await sleeping(client, kernel_id, "go")
    await client.request("kernel/interrupt", {"kernelId": kernel_id})
    cell = await asyncio.wait_for(running, 20)
    assert cell.status == "error"
    assert cell.outputs[-1]["ename"] == "KeyboardInterrupt"
    after = await run(client, kernel_id, "print('still here')")
    assert after.text() == "still here\n"


async def test_input_is_asked_through_the_client(remote_bridge: tuple[BridgeClient, str],
                                                remote_kernel: dict[str, Any]) -> None:
    client, _ = remote_bridge
    asked: list[Any] = []

    async def answer(params: Any) -> Any:
        asked.append(params)
        return {"value": "Ada"}

    client.server_request_handlers["kernel/input"] = answer
    try:
        cell = await run(client, remote_kernel["kernelId"], "print('hi', input('name? '))")
    finally:
        del client.server_request_handlers["kernel/input"]
    assert asked and asked[0]["prompt"] == "name? "
    assert cell.text().endswith("hi Ada\n")


async def test_restart_forgets_the_state_and_keeps_the_kernel(
        remote_bridge: tuple[BridgeClient, str], remote_kernel: dict[str, Any],
        server: RunningServer) -> None:
    client, _ = remote_bridge
    kernel_id = remote_kernel["kernelId"]
    await run(client, kernel_id, "x = 42")
    restarted = await client.request("kernel/restart", {"kernelId": kernel_id})
    assert restarted["remoteKernelId"] == remote_kernel["remoteKernelId"]
    cell = await run(client, kernel_id, "print('x' in dir())")
    assert cell.text() == "False\n"
    assert cell.result["executionCount"] == 1


async def test_a_second_bridge_attaches_to_a_running_kernel(
        remote_bridge: tuple[BridgeClient, str], remote_kernel: dict[str, Any],
        server: RunningServer) -> None:
    client, _ = remote_bridge
    await run(client, remote_kernel["kernelId"], "shared = 'from the first bridge'")
    other = await BridgeClient.start()
    try:
        await other.initialize()
        added = await other.request("kernel/servers/add", {"url": server.url,
                                                           "token": server.token})
        attached = await other.request("kernel/start", {
            "serverId": added["serverId"], "remoteKernelId": remote_kernel["remoteKernelId"]})
        cell = await run(other, attached["kernelId"], "print(shared)")
        assert cell.text() == "from the first bridge\n"
    finally:
        await other.shutdown()
    # the other bridge's exit leaves the kernel running on its server
    still = await run(client, remote_kernel["kernelId"], "print(shared)")
    assert still.text() == "from the first bridge\n"


async def test_shutdown_removes_the_kernel_from_the_server(
        remote_bridge: tuple[BridgeClient, str], server: RunningServer) -> None:
    client, server_id = remote_bridge
    started = await client.request("kernel/start", {"serverId": server_id})
    listed = [k["id"] for k in server.api("api/kernels")]  # type: ignore[union-attr]
    assert started["remoteKernelId"] in listed
    await client.request("kernel/shutdown", {"kernelId": started["kernelId"]})
    listed = [k["id"] for k in server.api("api/kernels")]  # type: ignore[union-attr]
    assert started["remoteKernelId"] not in listed
    with pytest.raises(RpcError) as raised:
        await run(client, started["kernelId"], "1")
    assert raised.value.code == -32010


async def test_a_wrong_or_missing_token_is_a_clear_error(server: RunningServer) -> None:
    client = await BridgeClient.start()
    try:
        await client.initialize()
        for token in ("not-the-token", None):
            with pytest.raises(RpcError) as raised:
                await client.request("kernel/servers/add", {"url": server.url,
                                                            "token": token})
            assert raised.value.code == -32031
            assert "refused" in raised.value.message
            assert "not-the-token" not in raised.value.message
        listed = await client.request("kernel/servers/list", {})
        assert listed["servers"] == []
    finally:
        await client.shutdown()
