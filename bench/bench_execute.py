"""`1+1` round trip: JSON-RPC client -> bridge -> kernel, against its anchors.

Anchors measured in the same run, on kernels of their own: raw jupyter_client
(AsyncKernelClient, reply and idle status) and a real jupyter_server on 127.0.0.1 spoken to
over its kernel websocket. Requests are interleaved (one of each per round) so load on a
shared machine hits all three alike.

    python bench/bench_execute.py [--rounds 300]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from remote_anchor import RawKernel, jupyter_server

from bridge_client import BridgeClient

RoundTrip = Callable[[str], Awaitable[Any]]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def row(label: str, ours: float, anchor_name: str, anchor: float, unit: str,
        target: str) -> str:
    return (f"{label}: bridge {ours:.1f} {unit} | {anchor_name} {anchor:.1f} {unit} | "
            f"ratio {ours / anchor:.2f}x (target {target})")


# ------------------------------------------------------------------ raw anchor
@asynccontextmanager
async def raw_kernel() -> AsyncIterator[AsyncKernelClient]:
    """A kernel driven by jupyter_client alone (the floor the bridge is held to)."""
    manager = AsyncKernelManager(transport="ipc")
    await manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        yield client
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)


async def raw_execute(client: AsyncKernelClient, code: str) -> None:
    """Execute and wait for the reply and the idle status, as the bridge does."""
    msg_id = client.execute(code)
    replied = idle = False
    while not replied:
        replied = (await client.get_shell_msg())["parent_header"].get("msg_id") == msg_id
    while not idle:
        msg = await client.get_iopub_msg()
        idle = (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "idle")


# ------------------------------------------------------------ bridge under test
@asynccontextmanager
async def bridge_kernel(*serve_args: str) -> AsyncIterator[tuple[BridgeClient, str]]:
    client = await BridgeClient.start()
    try:
        await client.initialize()
        started = await client.request("kernel/start", {})
        yield client, started["kernelId"]
    finally:
        await client.shutdown()


# ----------------------------------------------------------------------- main
async def measure(rounds: int, warmup: int = 20) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {"bridge": [], "raw": [], "server": []}
    async with raw_kernel() as raw, bridge_kernel() as (client, kernel_id), \
            jupyter_server() as (url, token), RawKernel.open(url, token, tuned=True) as ws:
        async def via_bridge(code: str) -> None:
            await client.request("kernel/execute", {"kernelId": kernel_id, "code": code,
                                                    "executionId": uuid.uuid4().hex})
        runners: dict[str, RoundTrip] = {
            "bridge": via_bridge,
            "raw": lambda code: raw_execute(raw, code),
            "server": lambda code: ws.execute(code),
        }
        for index in range(warmup + rounds):
            for name, run in runners.items():
                started = time.perf_counter()
                await run("1+1")
                if index >= warmup:
                    samples[name].append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 300)))
    args = parser.parse_args()
    samples = asyncio.run(measure(args.rounds))
    for label, fraction in (("p50", 0.5), ("p99", 0.99)):
        ours = percentile(samples["bridge"], fraction)
        raw = percentile(samples["raw"], fraction)
        server = percentile(samples["server"], fraction)
        print(row(f"execute 1+1 {label}", ours, "raw jupyter_client", raw, "ms", "<= 1.15x"))
        print(row(f"execute 1+1 {label}", ours, "jupyter_server websocket (TCP_QUICKACK)",
                  server, "ms", "report: a local kernel against a remote one"))


if __name__ == "__main__":
    main()
