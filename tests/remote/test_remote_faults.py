"""What goes wrong with a server: its kernel killed, the connection cut mid-cell."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any
from urllib.parse import urlparse

import psutil
import pytest

from bridge_client import BridgeClient
from cuttable_proxy import CuttableProxy
from kernels.kernel_helpers import queue, run, sleeping
from remote_servers import RunningServer

pytestmark = pytest.mark.asyncio(loop_scope="module")

COUNTED = ("import time\n"
           "for i in range(30):\n"
           "    print(f'line {i}', flush=True)\n"
           "    time.sleep(0.1)\n")


def kernel_process(server: RunningServer, remote_id: str) -> psutil.Process:
    """The server's kernel process, found by its connection file's name."""
    for process in psutil.Process(server.process.pid).children(recursive=True):
        if any(remote_id in part for part in process.cmdline()):
            return process
    raise AssertionError(f"no process for kernel {remote_id}")


def states(client: BridgeClient, kernel_id: str) -> list[str]:
    return [n["state"] for n in client.notifications["kernel/status"]
            if n["kernelId"] == kernel_id]


async def test_a_kernel_killed_on_the_server_ends_the_cell_and_comes_back(
        remote_bridge: tuple[BridgeClient, str], server: RunningServer) -> None:
    client, server_id = remote_bridge
    started = await client.request("kernel/start", {"serverId": server_id})
    kernel_id = started["kernelId"]
    running = await sleeping(client, kernel_id, "up")
    os.kill(kernel_process(server, started["remoteKernelId"]).pid, signal.SIGKILL)
    cell = await asyncio.wait_for(running, 30)
    assert cell.status == "error"
    died = cell.outputs[-1]
    assert died["ename"] == "KernelDied"
    assert "restarted by the server" in died["evalue"]
    await client.wait_for_notification(
        "kernel/status", lambda n: n["kernelId"] == kernel_id and n["state"] == "idle"
        and "restarting" in states(client, kernel_id), timeout=60)
    after = await run(client, kernel_id, "print('back')")
    assert after.text() == "back\n"
    await client.request("kernel/shutdown", {"kernelId": kernel_id})


async def test_a_cut_connection_mid_cell_loses_and_repeats_nothing(
        server: RunningServer) -> None:
    address = urlparse(server.url)
    assert address.hostname is not None and address.port is not None
    proxy = CuttableProxy(address.hostname, address.port)
    await proxy.start()
    client = await BridgeClient.start()
    try:
        await client.initialize()
        added = await client.request("kernel/servers/add", {
            "url": f"http://127.0.0.1:{proxy.port}{address.path}", "token": server.token})
        started = await client.request("kernel/start", {"serverId": added["serverId"]})
        kernel_id = started["kernelId"]
        await run(client, kernel_id, "x = 42")
        running = await queue(client, kernel_id, COUNTED)
        await client.wait_for_notification(
            "kernel/output", lambda n: any("line 3" in op.get("text", "") for op in n["ops"]))
        await proxy.cut()
        await client.wait_for_notification(
            "kernel/status", lambda n: n["kernelId"] == kernel_id
            and n["state"] == "reconnecting")
        await asyncio.sleep(1.0)
        await proxy.restore()
        cell = await asyncio.wait_for(running, 60)
        assert cell.status == "ok"
        assert cell.text() == "".join(f"line {i}\n" for i in range(30))
        assert proxy.connections >= 2
        seen = states(client, kernel_id)
        assert "disconnected" in seen and "reconnecting" in seen
        after = await run(client, kernel_id, "print(x)")
        assert after.text() == "42\n"
        await client.request("kernel/shutdown", {"kernelId": kernel_id})
    finally:
        await client.shutdown()
        await proxy.close()


async def test_a_kernel_gone_from_the_server_ends_the_running_cell(
        remote_bridge: tuple[BridgeClient, str], server: RunningServer) -> None:
    client, server_id = remote_bridge
    started = await client.request("kernel/start", {"serverId": server_id})
    kernel_id = started["kernelId"]
    running = await sleeping(client, kernel_id, "up")
    # another client shuts it down on the server
    await asyncio.to_thread(server.api, f"api/kernels/{started['remoteKernelId']}", "DELETE")
    cell: Any = await asyncio.wait_for(running, 60)
    assert cell.status == "error"
    assert cell.outputs[-1]["ename"] == "KernelDied"
    await client.wait_for_notification(
        "kernel/status", lambda n: n["kernelId"] == kernel_id and n["state"] == "dead")
