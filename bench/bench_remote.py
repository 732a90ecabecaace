"""Remote kernels: the bridge on a jupyter_server's kernel against raw websocket clients
of the same server, in one run (requests alternate between clients each round).

Rows: execute `1+1` p50/p99 vs a raw client tuned with TCP_QUICKACK (target <= 1.15x) and
the tuned client vs a plain one (the server's Nagle stall); time to the last output of
100k printed lines and of a 50 MB display_data; kernel start -> first result, remote vs
local. The server runs with its IOPub rate limits off, for every client alike: at their
defaults it drops the large outputs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from remote_anchor import RawKernel, jupyter_server

from bridge_client import BridgeClient

LINES = "for i in range(100_000): print(i)"
BIG_DISPLAY = ("from IPython.display import display\n"
               "display({'text/plain': 'x' * (50 * 2**20)}, raw=True)")
NO_RATE_LIMITS = ("--ServerApp.iopub_data_rate_limit=0", "--ServerApp.iopub_msg_rate_limit=0")


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def row(label: str, ours_name: str, ours: float, anchor_name: str, anchor: float,
        unit: str, target: str) -> str:
    return (f"{label}: {ours_name} {ours:.1f} {unit} | {anchor_name} {anchor:.1f} {unit} | "
            f"ratio {ours / anchor:.2f}x (target {target})")


async def bridge_execute(client: BridgeClient, kernel_id: str, code: str) -> None:
    await client.request("kernel/execute", {"kernelId": kernel_id, "code": code,
                                            "executionId": uuid.uuid4().hex}, timeout=600)
    client.notifications["kernel/output"].clear()


async def timed(run: asyncio.Future[object] | object) -> float:
    started = time.perf_counter()
    await run  # type: ignore[misc]
    return (time.perf_counter() - started) * 1000


async def measure(rounds: int, big_rounds: int) -> None:
    async with jupyter_server(*NO_RATE_LIMITS) as (url, token):
        client = await BridgeClient.start()
        try:
            await client.initialize()
            server_id = (await client.request("kernel/servers/add",
                                              {"url": url, "token": token}))["serverId"]
            kernel_id = (await client.request("kernel/start",
                                              {"serverId": server_id}))["kernelId"]
            async with RawKernel.open(url, token, tuned=True) as tuned, \
                    RawKernel.open(url, token, tuned=False) as plain:
                samples: dict[str, list[float]] = {"bridge": [], "tuned": [], "plain": []}
                for index in range(20 + rounds):
                    for name, run in (("bridge", lambda: bridge_execute(client, kernel_id,
                                                                        "1+1")),
                                      ("tuned", lambda: tuned.execute("1+1")),
                                      ("plain", lambda: plain.execute("1+1"))):
                        took = await timed(run())
                        if index >= 20:
                            samples[name].append(took)
                for label, fraction in (("p50", 0.5), ("p99", 0.99)):
                    ours = percentile(samples["bridge"], fraction)
                    good = percentile(samples["tuned"], fraction)
                    naive = percentile(samples["plain"], fraction)
                    print(row(f"remote execute 1+1 {label}", "bridge", ours,
                              "raw websocket (TCP_QUICKACK)", good, "ms", "<= 1.15x"))
                    print(row(f"remote execute 1+1 {label}", "raw (TCP_QUICKACK)", good,
                              "raw websocket, plain", naive, "ms", "the stall removed"))
                for label, code in (("100k printed lines", LINES),
                                    ("50 MB display_data", BIG_DISPLAY)):
                    ours_runs, raw_runs = [], []
                    for _ in range(big_rounds):
                        ours_runs.append(await timed(bridge_execute(client, kernel_id, code)))
                        raw_runs.append(await timed(tuned.execute(code)))
                    print(row(f"time to last output, {label}", "bridge",
                              statistics.median(ours_runs), "raw websocket (TCP_QUICKACK)",
                              statistics.median(raw_runs), "ms", "<= 1.15x"))
            await client.request("kernel/shutdown", {"kernelId": kernel_id})
            remote_starts, local_starts = [], []
            for _ in range(3):
                for where, params in (("remote", {"serverId": server_id}), ("local", {})):
                    started = time.perf_counter()
                    kernel = await client.request("kernel/start", params)
                    await bridge_execute(client, kernel["kernelId"], "1+1")
                    took = (time.perf_counter() - started) * 1000
                    (remote_starts if where == "remote" else local_starts).append(took)
                    await client.request("kernel/shutdown", {"kernelId": kernel["kernelId"]})
            print(row("kernel start -> first result", "remote", statistics.median(remote_starts),
                      "local", statistics.median(local_starts), "ms", "report"))
        finally:
            await client.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 300)))
    parser.add_argument("--big-rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(measure(args.rounds, args.big_rounds))


if __name__ == "__main__":
    main()
