"""Kernels talk over IPC in a private directory and never outlive the bridge."""

from __future__ import annotations

import json
import os
import signal
import stat
from pathlib import Path

import psutil
from kernel_helpers import pid_alive, wait_until

from bridge_client import BridgeClient


async def test_ipc_transport_private_files_no_tcp(bridge: BridgeClient) -> None:
    started = await bridge.request("kernel/start", {})
    connection_file = Path(started["connectionFile"])
    runtime_dir = connection_file.parent
    assert stat.S_IMODE(connection_file.stat().st_mode) == 0o600
    # only the user may enter (jupyter_client adds the sticky bit: harmless)
    assert stat.S_IMODE(runtime_dir.stat().st_mode) & 0o777 == 0o700
    info = json.loads(connection_file.read_text())
    assert info["transport"] == "ipc"
    assert info["key"], "messages must be signed"
    sockets = [p for p in runtime_dir.iterdir() if p.is_socket()]
    assert len(sockets) >= 5  # shell, iopub, stdin, control, heartbeat
    # no kernel channel is on TCP; ipykernel itself always binds one loopback PULL socket
    # (output of forked subprocesses, frames authenticated by a random token)
    kernel_tcp = psutil.Process(started["pid"]).net_connections(kind="inet")
    assert len(kernel_tcp) <= 1
    assert all(c.laddr.ip == "127.0.0.1" for c in kernel_tcp)
    channel_ports = {info[f"{name}_port"] for name in
                     ("shell", "iopub", "stdin", "control", "hb")}
    assert not channel_ports & {c.laddr.port for c in kernel_tcp}
    bridge_process = psutil.Process(bridge.process.pid)
    assert bridge_process.net_connections(kind="inet") == []

    await bridge.shutdown()
    await wait_until(lambda: not pid_alive(started["pid"]))
    assert not runtime_dir.exists()


async def test_kernels_end_when_the_client_goes_away() -> None:
    client = await BridgeClient.start()
    await client.initialize()
    pids = [(await client.request("kernel/start", {}))["pid"] for _ in range(2)]
    assert client.process.stdin is not None
    client.process.stdin.close()  # the editor window closed: no shutdown, no exit
    assert await client.process.wait() is not None
    assert not any(pid_alive(pid) for pid in pids)


async def test_kernels_end_when_the_bridge_is_killed() -> None:
    client = await BridgeClient.start()
    await client.initialize()
    pid = (await client.request("kernel/start", {}))["pid"]
    os.kill(client.process.pid, signal.SIGKILL)
    await client.process.wait()
    # ipykernel polls for its parent; generous deadline, no speed claim
    await wait_until(lambda: not pid_alive(pid), timeout=60)
