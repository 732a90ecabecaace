"""Kernel lifecycle: a fresh notebook's first result, interrupt, restart, death.

Cold: kernel/start + kernel/execute `1+1` to the result; the anchor, measured in the same
run and alternated with it, is raw jupyter_client doing the same (start_kernel,
wait_for_ready, execute). Warm: the same with the warm pool, the kernel started ahead;
its target is absolute (60 ms). Interrupt of `time.sleep(60)` and restart are measured
against raw jupyter_client too; a SIGKILLed kernel's cell must end within 2 s.

    python bench/bench_start.py [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid

import psutil
from bench_execute import BridgeClient, raw_execute, raw_kernel
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager


async def raw_first_result() -> float:
    started = time.perf_counter()
    async with raw_kernel() as client:
        await raw_execute(client, "1+1")
        return time.perf_counter() - started  # before the shutdown, as for the bridge


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
    await client.initialize({"warmPool": True})
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


INTERRUPTS_PER_ROUND = 4
SLEEP = "import time\nprint('sleeping', flush=True)\ntime.sleep(60)"


async def bridge_running(client: BridgeClient, kernel_id: str) -> asyncio.Task[object]:
    """A `time.sleep(60)` cell of the bridge, returned once it runs."""
    execution_id = uuid.uuid4().hex
    task = asyncio.create_task(client.request("kernel/execute", {
        "kernelId": kernel_id, "code": SLEEP, "executionId": execution_id}))
    await client.wait_for_notification("kernel/output",
                                       lambda n: n["executionId"] == execution_id)
    return task


async def raw_interrupt(manager: AsyncKernelManager, client: AsyncKernelClient) -> float:
    msg_id = client.execute(SLEEP)
    while True:
        msg = await client.get_iopub_msg()
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
            break
    started = time.perf_counter()
    await manager.interrupt_kernel()
    while (await client.get_shell_msg())["parent_header"].get("msg_id") != msg_id:
        pass
    while True:  # ended as the bridge counts it: the reply and the idle status
        msg = await client.get_iopub_msg()
        if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "idle"):
            return time.perf_counter() - started


async def raw_restart(manager: AsyncKernelManager, client: AsyncKernelClient) -> float:
    started = time.perf_counter()
    await manager.restart_kernel()
    await client.wait_for_ready(timeout=60)
    await raw_execute(client, "1+1")
    return time.perf_counter() - started


async def lifecycle(rounds: int) -> None:
    interrupts: dict[str, list[float]] = {"bridge": [], "raw": []}
    restarts: dict[str, list[float]] = {"bridge": [], "raw": []}
    deaths: list[float] = []
    manager = AsyncKernelManager(transport="ipc")
    await manager.start_kernel()
    raw = manager.client()
    raw.start_channels()
    await raw.wait_for_ready(timeout=60)
    # the bridge logs each death on stderr: expected here
    client = await BridgeClient.start(stderr=asyncio.subprocess.DEVNULL)
    await client.initialize()
    try:
        kernel_id = (await client.request("kernel/start", {}))["kernelId"]
        for _ in range(rounds * INTERRUPTS_PER_ROUND):  # cheap: more samples
            interrupts["raw"].append(await raw_interrupt(manager, raw))
            running = await bridge_running(client, kernel_id)
            started = time.perf_counter()
            await client.request("kernel/interrupt", {"kernelId": kernel_id})
            await running
            interrupts["bridge"].append(time.perf_counter() - started)
        for _ in range(rounds):
            restarts["raw"].append(await raw_restart(manager, raw))
            started = time.perf_counter()
            await client.request("kernel/restart", {"kernelId": kernel_id})
            await client.request("kernel/execute", {"kernelId": kernel_id, "code": "1+1",
                                                    "executionId": uuid.uuid4().hex})
            restarts["bridge"].append(time.perf_counter() - started)

            pid = (await client.request("kernel/restart", {"kernelId": kernel_id}))["pid"]
            running = await bridge_running(client, kernel_id)
            started = time.perf_counter()
            os.kill(pid, 9)
            await running
            deaths.append(time.perf_counter() - started)
            await client.request("kernel/restart", {"kernelId": kernel_id})
    finally:
        await client.shutdown()
        raw.stop_channels()
        await manager.shutdown_kernel(now=True)
    for label, samples, target in (("interrupt time.sleep(60) -> cell ended", interrupts,
                                    "<= 1.15x"),
                                   ("restart -> first result", restarts, "<= 1.15x")):
        ours = statistics.median(samples["bridge"]) * 1000
        anchor = statistics.median(samples["raw"]) * 1000
        print(f"{label}: bridge {ours:.0f} ms | raw jupyter_client {anchor:.0f} ms | "
              f"ratio {ours / anchor:.2f}x (target {target})")
    worst = max(deaths) * 1000
    print(f"kernel SIGKILLed mid-cell -> cell ended with KernelDied: bridge median "
          f"{statistics.median(deaths) * 1000:.0f} ms, worst {worst:.0f} ms | target 2000 ms | "
          f"ratio {worst / 2000:.2f}x (target <= 1x)")


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
    await lifecycle(rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 2)))
    args = parser.parse_args()
    asyncio.run(measure(args.rounds))


if __name__ == "__main__":
    main()
