"""Load: many kernels streaming at once through one bridge, and a long queue on one
kernel under random interrupts and restarts. Nothing lost, duplicated or left pending."""

from __future__ import annotations

import asyncio
import os
import random
from typing import Any

import psutil
import pytest

from bridge_client import BridgeClient, RpcError, peak_rss_mb
from kernels.kernel_helpers import new_execution_id, run

STRESS = os.environ.get("NBBRIDGE_STRESS") == "1"
KERNELS = 20
LINES = 100_000 if STRESS else 20_000
QUEUED = 1000 if STRESS else 300


@pytest.mark.timeout(900)
async def test_twenty_kernels_stream_every_line_once_in_order(bridge: BridgeClient) -> None:
    started = await asyncio.gather(*(
        bridge.request("kernel/start", {}, timeout=300) for _ in range(KERNELS)))
    before = psutil.Process(bridge.process.pid).memory_info().rss / 2**20
    code = f"for i in range({LINES}):\n    print(i)"
    cells = await asyncio.gather(*(
        run(bridge, kernel["kernelId"], code, timeout=600) for kernel in started))
    expected = "".join(f"{i}\n" for i in range(LINES))
    for cell in cells:
        assert cell.status == "ok"
        assert cell.text() == expected  # every line, once, in order
    peak = peak_rss_mb(bridge.process.pid)
    notifications = len(bridge.notifications["kernel/output"])
    print(f"\n{KERNELS} kernels x {LINES} lines = {KERNELS * LINES} lines delivered in "
          f"{notifications} notifications; bridge RSS before {before:.0f} MB, "
          f"peak {peak:.0f} MB")
    await asyncio.gather(*(bridge.request("kernel/shutdown", {"kernelId": k["kernelId"]})
                           for k in started))


@pytest.mark.timeout(900)
async def test_long_queue_under_interrupts_and_restarts_ends_every_execution_once(
    bridge: BridgeClient,
) -> None:
    kernel = (await bridge.request("kernel/start", {}))["kernelId"]
    chance = random.Random(20261126)
    codes = ["x = 1", "import time; time.sleep(0.02)", "1/0", "print('p')",
             "import time; time.sleep(0.2)"]
    answers: dict[str, list[Any]] = {}

    async def execute(index: int) -> None:
        execution_id = new_execution_id()
        answers[execution_id] = []
        try:
            result = await bridge.request("kernel/execute", {
                "kernelId": kernel, "code": chance.choice(codes), "executionId": execution_id,
                "stopOnError": chance.random() < 0.7}, timeout=600)
            answers[execution_id].append(result["status"])
        except RpcError as error:  # e.g. queued behind a restart of a kernel now gone
            answers[execution_id].append(f"error {error.code}")

    async def disturb(stop: asyncio.Event) -> int:
        done = 0
        while not stop.is_set():
            await asyncio.sleep(chance.uniform(0.05, 0.4))
            method = chance.choice(["kernel/interrupt", "kernel/interrupt", "kernel/restart"])
            await bridge.request(method, {"kernelId": kernel}, timeout=120)
            done += 1
        return done

    async def submit_in_waves(stop: asyncio.Event) -> None:
        wave = QUEUED // 10
        for first in range(0, QUEUED, wave):
            await asyncio.gather(*(execute(i) for i in range(first, first + wave)))
        stop.set()

    stop = asyncio.Event()
    disturbances, _ = await asyncio.gather(disturb(stop), submit_in_waves(stop))
    ended = [statuses for statuses in answers.values()]
    assert len(ended) == QUEUED
    assert all(len(statuses) == 1 for statuses in ended), "an execution answered twice"
    tally: dict[str, int] = {}
    for (status,) in ended:
        tally[status] = tally.get(status, 0) + 1
    assert set(tally) <= {"ok", "error", "aborted"}, tally
    print(f"\n{QUEUED} executions under {disturbances} interrupts/restarts: {tally}")
    assert tally.get("ok", 0) > 0, tally
    # the kernel still works afterwards
    assert (await run(bridge, kernel, "6 * 7")).status == "ok"
