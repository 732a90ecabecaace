"""1M printed lines: time to the last output at the client, notifications, bridge memory.

Anchor measured in the same run: raw jupyter_client draining the same cell's iopub
stream on a kernel of its own. Both run at the same time, so the load of a shared machine
(which can change the kernel's print speed severalfold within a minute) hits both alike.

    python bench/bench_outputs.py [--rounds 1] [--lines 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from typing import Any

import psutil
from bench_execute import BridgeClient, bridge_kernel, raw_kernel
from jupyter_client.asynchronous import AsyncKernelClient


def cell(lines: int) -> str:
    return f"for i in range({lines}): print(i)"


async def raw_drain(client: AsyncKernelClient, lines: int) -> tuple[float, int]:
    """Seconds until the kernel is idle again, every stream message read; lines seen."""
    started = time.perf_counter()
    msg_id = client.execute(cell(lines))
    newlines = 0
    while True:
        msg = await client.get_iopub_msg()
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            newlines += msg["content"]["text"].count("\n")
        elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return time.perf_counter() - started, newlines


async def bridge_drain(client: BridgeClient, kernel_id: str, lines: int,
                       rss: list[int]) -> tuple[float, int, int]:
    """Seconds until the last output notification; notifications; lines seen."""
    execution_id = uuid.uuid4().hex
    seen = {"notes": 0, "newlines": 0, "last": 0.0}

    def listen(method: str, params: Any) -> None:
        if method == "kernel/output" and params["executionId"] == execution_id:
            seen["notes"] += 1
            seen["last"] = time.perf_counter()
            seen["newlines"] += sum(op.get("text", "").count("\n") for op in params["ops"])

    client.notification_listeners.append(listen)
    process = psutil.Process(client.process.pid)
    sampling = True

    async def sample() -> None:
        while sampling:
            rss.append(process.memory_info().rss)
            await asyncio.sleep(0.02)

    sampler = asyncio.create_task(sample())
    started = time.perf_counter()
    try:
        await client.request("kernel/execute", {"kernelId": kernel_id, "code": cell(lines),
                                                "executionId": execution_id}, timeout=600)
    finally:
        sampling = False
        await sampler
        client.notification_listeners.remove(listen)
        # the bench client keeps notifications; the bridge's memory is what is measured
        client.notifications["kernel/output"].clear()
    return seen["last"] - started, int(seen["notes"]), int(seen["newlines"])


async def measure(rounds: int, lines: int) -> None:
    raw_times: list[float] = []
    bridge_times: list[float] = []
    notes: list[int] = []
    rss: list[int] = []
    async with raw_kernel() as raw, bridge_kernel() as (client, kernel_id):
        await client.request("kernel/execute", {"kernelId": kernel_id, "code": "pass",
                                                "executionId": "warmup"})
        baseline = psutil.Process(client.process.pid).memory_info().rss
        for _ in range(rounds):
            (raw_seconds, raw_seen), (seconds, count, seen) = await asyncio.gather(
                raw_drain(raw, lines), bridge_drain(client, kernel_id, lines, rss))
            assert raw_seen == lines, f"raw saw {raw_seen} lines"
            assert seen == lines, f"bridge delivered {seen} of {lines} lines"
            raw_times.append(raw_seconds)
            bridge_times.append(seconds)
            notes.append(count)
    ours, anchor = statistics.median(bridge_times), statistics.median(raw_times)
    label = f"{lines:,} printed lines"
    print(f"{label}, time to last output: bridge {ours:.2f} s | raw jupyter_client drain "
          f"{anchor:.2f} s | ratio {ours / anchor:.2f}x (target <= 1.3x)")
    print(f"{label}, kernel/output notifications: bridge {max(notes)} | lines {lines:,} | "
          f"ratio {max(notes) / lines:.5f} (target <= 200 notifications)")
    growth = (max(rss) - baseline) / 2**20
    print(f"{label}, bridge RSS: peak {max(rss) / 2**20:.0f} MB | before "
          f"{baseline / 2**20:.0f} MB | growth {growth:.0f} MB (target <= 150 MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 1)))
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args()
    asyncio.run(measure(args.rounds, args.lines))


if __name__ == "__main__":
    main()
