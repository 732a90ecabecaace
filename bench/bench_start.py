"""A fresh notebook's first run: kernel/start + kernel/execute `1+1`, to the result.

Cold: the bridge starts the kernel; the anchor, measured in the same run and alternated
with it, is raw jupyter_client doing the same (start_kernel, wait_for_ready, execute).
Warm: the bridge runs with the warm pool, so the kernel was started ahead; the target is
absolute (60 ms).

    python bench/bench_start.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid

import psutil
from bench_execute import BridgeClient, raw_execute
from jupyter_client.manager import AsyncKernelManager


async def raw_first_result() -> float:
    started = time.perf_counter()
    manager = AsyncKernelManager(transport="ipc")
    await manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        await raw_execute(client, "1+1")
        return time.perf_counter() - started
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)


async def bridge_first_result(client: BridgeClient) -> float:
    started = time.perf_counter()
    kernel = await client.request("kernel/start", {})
    result = await client.request("kernel/execute", {"kernelId": kernel["kernelId"],
                                                     "code": "1+1",
                                                     "executionId": uuid.uuid4().hex})
    elapsed = time.perf_counter() - started
    assert result["status"] == "ok"
    await client.request("kernel/shutdown", {"kernelId": kernel["kernelId"]})
    return elapsed


async def warm_bridge() -> BridgeClient:
    client = await BridgeClient.start()
    await client.request("initialize", {"processId": os.getpid(), "rootUri": None,
                                        "capabilities": {},
                                        "initializationOptions": {"warmPool": True}})
    client.notify("initialized", {})
    return client


async def pool_settled(client: BridgeClient) -> None:
    """Wait until the bridge's pool kernel exists and has gone quiet (started)."""
    bridge = psutil.Process(client.process.pid)
    while True:
        kernels = [p for p in bridge.children()
                   if "ipykernel_launcher" in " ".join(p.cmdline())]
        if kernels:
            kernels[0].cpu_percent()
            await asyncio.sleep(0.5)
            if kernels[0].cpu_percent() < 5:
                return
        else:
            await asyncio.sleep(0.1)


async def measure(rounds: int) -> None:
    cold_raw: list[float] = []
    cold_bridge: list[float] = []
    warm: list[float] = []
    client = await BridgeClient.start()
    await client.initialize()
    try:
        await bridge_first_result(client)  # imports and caches warmed on both sides
        await raw_first_result()
        for _ in range(rounds):
            cold_raw.append(await raw_first_result())
            cold_bridge.append(await bridge_first_result(client))
    finally:
        await client.shutdown()
    client = await warm_bridge()
    try:
        for _ in range(rounds):
            await pool_settled(client)
            warm.append(await bridge_first_result(client))
    finally:
        await client.shutdown()
    ours, anchor = statistics.median(cold_bridge) * 1000, statistics.median(cold_raw) * 1000
    print(f"fresh notebook first result, cold: bridge {ours:.0f} ms | raw jupyter_client "
          f"start+execute {anchor:.0f} ms | ratio {ours / anchor:.2f}x (target <= 1.1x)")
    warm_ms = statistics.median(warm) * 1000
    print(f"fresh notebook first result, warm pool: bridge {warm_ms:.1f} ms | cold bridge "
          f"{ours:.0f} ms | ratio {warm_ms / ours:.3f}x (target <= 60 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 3)))
    args = parser.parse_args()
    asyncio.run(measure(args.rounds))


if __name__ == "__main__":
    main()
