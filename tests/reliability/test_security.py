"""Nothing secret in the bridge's log at any level; no network socket of the bridge or kernels."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path

import psutil

from bridge_client import BridgeClient
from kernels.kernel_helpers import run


async def test_debug_log_holds_no_connection_key_and_bridge_listens_nowhere(
    tmp_path: Path,
) -> None:
    log_path = tmp_path / "bridge.log"
    with log_path.open("wb") as log:
        client = await BridgeClient.start(stderr=log, log_level="DEBUG")
        try:
            await client.initialize()
            started = await client.request("kernel/start", {})
            cell = await run(client, started["kernelId"], "print('hello')\n1 + 1")
            assert cell.status == "ok"
            info = json.loads(await asyncio.to_thread(Path(started["connectionFile"]).read_text))
            bridge = psutil.Process(client.process.pid)
            listening = [c for c in bridge.net_connections(kind="all")
                         if c.status == psutil.CONN_LISTEN]
            assert listening == []
            assert bridge.net_connections(kind="inet") == []
            await client.request("kernel/restart", {"kernelId": started["kernelId"]})
        finally:
            await client.shutdown()
    logged = await asyncio.to_thread(log_path.read_text, errors="replace")
    assert "DEBUG" in logged  # the level really was on
    assert info["key"] not in logged
    # the key never appears in any form the log could carry it
    assert info["key"].encode().hex() not in logged


# What the kernel says is its one TCP socket: ipykernel's pipe for the output of forked
# subprocesses (bound to loopback, frames checked against a random token); None if this
# ipykernel has none.
PIPE_PORT = ("import sys\n"
             "print(getattr(getattr(sys.stdout, 'pub_thread', None), '_pipe_port', None))")


async def test_the_kernel_has_no_network_socket_but_ipykernels_loopback_pipe(
        bridge: BridgeClient) -> None:
    started = await bridge.request("kernel/start", {})
    connection_file = Path(started["connectionFile"])
    info = json.loads(await asyncio.to_thread(connection_file.read_text))
    assert info["transport"] == "ipc"
    file_mode, dir_mode = await asyncio.to_thread(
        lambda: (connection_file.stat().st_mode, connection_file.parent.stat().st_mode))
    assert stat.S_IMODE(file_mode) == 0o600
    assert stat.S_IMODE(dir_mode) & 0o777 == 0o700  # jupyter_client adds the sticky bit

    printed = (await run(bridge, started["kernelId"], PIPE_PORT)).text().strip()
    pipe_port = None if printed == "None" else int(printed)
    kernel = psutil.Process(started["pid"])
    # every TCP and UDP socket, IPv4 and IPv6, of the kernel and anything it started
    sockets = [(process.pid, connection) for process in [kernel, *kernel.children(recursive=True)]
               for connection in process.net_connections(kind="inet")]
    unexpected = [
        (pid, connection) for pid, connection in sockets
        if not (pid == kernel.pid and pipe_port is not None
                and connection.status == psutil.CONN_LISTEN
                and tuple(connection.laddr) == ("127.0.0.1", pipe_port))
    ]
    assert unexpected == []
