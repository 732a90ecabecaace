"""The warm pool: with initializationOptions.warmPool a default kernel waits, started."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import psutil

from bridge.cli import build_parser

from bridge_client import BridgeClient
from kernel_helpers import pid_alive, run, wait_until


def kernel_children(client: BridgeClient) -> set[int]:
    return {p.pid for p in psutil.Process(client.process.pid).children()
            if "ipykernel_launcher" in " ".join(p.cmdline())}


async def warm_bridge() -> BridgeClient:
    client = await BridgeClient.start()
    await client.initialize({"warmPool": True})
    return client


async def test_start_hands_over_the_warm_kernel(tmp_path: Path) -> None:
    client = await warm_bridge()
    try:
        # the pool fills on its own, before anyone asks for a kernel
        await wait_until(lambda: len(kernel_children(client)) == 1, timeout=120)
        (warm_pid,) = kernel_children(client)
        notebook = tmp_path / "fresh notebook.ipynb"
        started: dict[str, Any] = await client.request("kernel/start", {
            "notebookUri": notebook.as_uri()})
        assert started["pid"] == warm_pid
        assert started["notebookUri"] == notebook.as_uri()
        cell = await run(client, started["kernelId"], "import os; os.getcwd()")
        assert cell.outputs[0]["data"]["text/plain"] == repr(str(tmp_path))
        # a silent chdir: the first cell the user runs is still number 1
        assert cell.result["executionCount"] == 1
        statuses = [n["state"] for n in client.notifications["kernel/status"]
                    if n["kernelId"] == started["kernelId"]]
        assert statuses[0] == "idle"
        # and the pool refills for the next notebook
        await wait_until(lambda: len(kernel_children(client) - {warm_pid}) == 1,
                         timeout=120)
        (next_pid,) = kernel_children(client) - {warm_pid}
        second = await client.request("kernel/start", {})
        assert second["pid"] == next_pid
        pids = kernel_children(client)
    finally:
        await client.shutdown()
    assert not any(pid_alive(pid) for pid in pids)


async def test_no_pool_without_the_setting(bridge: BridgeClient) -> None:
    await asyncio.sleep(1.0)  # time enough for a pool kernel's process to appear
    assert kernel_children(bridge) == set()


def test_serve_has_a_warm_pool_flag() -> None:
    assert build_parser().parse_args(["serve", "--warm-pool"]).warm_pool is True
    assert build_parser().parse_args(["serve"]).warm_pool is False
