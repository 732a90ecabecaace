"""Every installed kernel, through the bridge and through jupyter_client alone.

For each kernel that `make kernels` installs (and python3): start until the first result
of a trivial cell, and the round trip of that cell on a started kernel. The anchor is
what any Jupyter front end does: jupyter_client's AsyncKernelManager on its default
transport (TCP) and an AsyncKernelClient (reply and idle status). Bridge and anchor
alternate round by round, each round a fresh bridge process and fresh kernels; medians
printed.

    python bench/bench_languages.py [--rounds 3] [--executes 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from bridge_client import BridgeClient

KERNELS = Path(__file__).resolve().parent.parent / ".tools" / "kernels" / "jupyter"
CELLS = {"python3": "6 * 7", "xpython": "6 * 7", "ir": "6 * 7", "deno": "6 * 7",
         "bash": "echo 42"}


def installed() -> list[str]:
    found = {p.name for p in (KERNELS / "kernels").iterdir()} if KERNELS.exists() else set()
    return [name for name in CELLS if name == "python3" or name in found]


Round = tuple[float, float, list[float]]  # with bridge start, kernel only, round trips


async def bridge_round(name: str, executes: int) -> Round:
    began = time.perf_counter()
    client = await BridgeClient.start(env={"JUPYTER_PATH": str(KERNELS)})
    try:
        await client.initialize()
        asked = time.perf_counter()
        kernel = await client.request("kernel/start", {"kernelName": name})
        kid = kernel["kernelId"]
        await client.request("kernel/execute", {"kernelId": kid, "code": CELLS[name],
                                                "executionId": "first"})
        now = time.perf_counter()
        trips = []
        for index in range(executes):
            sent = time.perf_counter()
            await client.request("kernel/execute", {"kernelId": kid, "code": CELLS[name],
                                                    "executionId": f"e{index}"})
            trips.append(time.perf_counter() - sent)
        return now - began, now - asked, trips
    finally:
        await client.shutdown()


async def raw_round(name: str, executes: int) -> Round:
    began = time.perf_counter()
    manager = AsyncKernelManager(kernel_name=name)
    await manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        await client.execute_interactive(CELLS[name], timeout=60, output_hook=lambda m: None)
        started = time.perf_counter() - began
        trips = []
        for _ in range(executes):
            sent = time.perf_counter()
            await client.execute_interactive(CELLS[name], timeout=60,
                                             output_hook=lambda m: None)
            trips.append(time.perf_counter() - sent)
        return started, started, trips
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)


async def main(rounds: int, executes: int) -> None:
    os.environ["JUPYTER_PATH"] = str(KERNELS)  # the anchor sees the same kernelspecs
    for name in installed():
        ours: list[Round] = []
        anchor: list[Round] = []
        for index in range(rounds):
            order = [(bridge_round, ours), (raw_round, anchor)]
            for measure, into in order if index % 2 == 0 else reversed(order):
                into.append(await measure(name, executes))
        start_ours = statistics.median(s for s, _, _ in ours)
        kernel_ours = statistics.median(k for _, k, _ in ours)
        start_raw = statistics.median(s for s, _, _ in anchor)
        trip_ours = statistics.median(t for _, _, trips in ours for t in trips) * 1000
        trip_raw = statistics.median(t for _, _, trips in anchor for t in trips) * 1000
        print(f"{name}:", flush=True)
        print(f"  kernel start to first result: bridge {kernel_ours:.2f} s | jupyter_client "
              f"{start_raw:.2f} s | ratio {kernel_ours / start_raw:.2f}x "
              f"(with the bridge's own start: {start_ours:.2f} s)")
        print(f"  execute round trip p50: bridge {trip_ours:.1f} ms | jupyter_client "
              f"{trip_raw:.1f} ms | ratio {trip_ours / trip_raw:.2f}x", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--executes", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.executes))
