"""Nothing secret in the bridge's log at any level, and no listening socket of its own."""

from __future__ import annotations

import asyncio
import json
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


async def test_kernel_sockets_are_not_reachable_over_tcp(bridge: BridgeClient) -> None:
    started = await bridge.request("kernel/start", {})
    info = json.loads(await asyncio.to_thread(Path(started["connectionFile"]).read_text))
    assert info["transport"] == "ipc"
    for name in ("shell", "iopub", "stdin", "control", "hb"):
        port = info[f"{name}_port"]
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
        except OSError:
            continue
        writer.close()
        raise AssertionError(f"the kernel's {name} channel answers on TCP port {port}")
