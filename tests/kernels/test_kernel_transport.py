"""Kernels talk over IPC in a private directory and never outlive the bridge."""

from __future__ import annotations

import json
import os
import signal
import stat
from pathlib import Path
from typing import Any

import psutil

from bridge_client import BridgeClient
from kernel_helpers import pid_alive, wait_until


def runtime_facts(connection_file: Path) -> tuple[int, int, dict[str, Any], int]:
    """Modes of the connection file and its folder, its content, the sockets beside it."""
    info = json.loads(connection_file.read_text())
    sockets = sum(1 for p in connection_file.parent.iterdir() if p.is_socket())
    return (stat.S_IMODE(connection_file.stat().st_mode),
            stat.S_IMODE(connection_file.parent.stat().st_mode), info, sockets)


async def test_ipc_transport_private_files_no_tcp(bridge: BridgeClient) -> None:
    started = await bridge.request("kernel/start", {})
    connection_file = Path(started["connectionFile"])
    runtime_dir = connection_file.parent
    file_mode, dir_mode, info, sockets = runtime_facts(connection_file)
    assert file_mode == 0o600
    # only the user may enter (jupyter_client adds the sticky bit: harmless)
    assert dir_mode & 0o777 == 0o700
    assert info["transport"] == "ipc"
    assert info["key"], "messages must be signed"
    assert sockets >= 5  # shell, iopub, stdin, control, heartbeat
    # no kernel channel is on TCP; ipykernel itself always binds one loopback PULL socket
    # (output of forked subprocesses, frames authenticated by a random token)
    kernel_tcp = psutil.Process(started["pid"]).net_connections(kind="inet")
    assert len(kernel_tcp) <= 1
    # that one listens on loopback and nothing is connected to it
    assert all(c.laddr.ip == "127.0.0.1" and c.status == psutil.CONN_LISTEN and not c.raddr
               for c in kernel_tcp)
    # every channel is a Unix socket in the private folder, where the kernel listens
    kernel_unix = {c.laddr for c in psutil.Process(started["pid"]).net_connections(
        kind="unix")}
    for name in ("shell", "iopub", "stdin", "control", "hb"):
        endpoint = f"{info['ip']}-{info[f'{name}_port']}"
        assert Path(endpoint).parent == runtime_dir, name
        assert Path(endpoint).is_socket(), name  # noqa: ASYNC240 (one stat, in a test)
        assert endpoint in kernel_unix, name
    bridge_process = psutil.Process(bridge.process.pid)
    assert bridge_process.net_connections(kind="inet") == []

    await bridge.shutdown()
    await wait_until(lambda: not pid_alive(started["pid"]))
    assert not os.path.lexists(runtime_dir)  # noqa: ASYNC240 (one stat, in a test)


async def test_kernels_end_when_the_client_goes_away() -> None:
    client = await BridgeClient.start()
    await client.initialize()
    pids = [(await client.request("kernel/start", {}))["pid"] for _ in range(2)]
    await client.close_input()  # the editor window closed: no shutdown, no exit
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
