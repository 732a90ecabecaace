"""Kernels failing in every way at once: each failure lands on its own execution, no
execution is left pending, restarts work, and a healthy kernel beside them is untouched.
A kernel that never becomes ready fails its start with a clear error and leaves nothing
running."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import psutil
import pytest

from bridge_client import BridgeClient, RpcError
from kernels.kernel_helpers import new_execution_id, ops_of, run, wait_until

DEATHS = {
    "sigkill": "import os, signal, time\nprint('up', flush=True)\n"
               "os.kill(os.getpid(), signal.SIGKILL)\ntime.sleep(30)",
    "segfault": "import ctypes\nprint('up', flush=True)\nctypes.string_at(0)",
    "exit 3": "import os\nprint('up', flush=True)\nos._exit(3)",
}


@pytest.mark.timeout(600)
async def test_three_deaths_at_once_beside_a_healthy_kernel(bridge: BridgeClient) -> None:
    started = await asyncio.gather(*(bridge.request("kernel/start", {}, timeout=300)
                                     for _ in range(len(DEATHS) + 1)))
    healthy, doomed = started[0], dict(zip(DEATHS, started[1:], strict=True))
    counting = asyncio.create_task(run(
        bridge, healthy["kernelId"],
        "import time\ntotal = 0\nfor i in range(40):\n    total += i\n    time.sleep(0.05)\n"
        "print(total)", timeout=300))

    async def die(how: str, kernel: dict[str, Any]) -> tuple[str, dict[str, Any], Any]:
        execution_id = new_execution_id()
        dying = bridge.request("kernel/execute", {
            "kernelId": kernel["kernelId"], "code": DEATHS[how],
            "executionId": execution_id}, timeout=120)
        queued = run(bridge, kernel["kernelId"], "print('never')", timeout=120)
        result, after = await asyncio.gather(dying, queued)
        return execution_id, result, after

    ended = await asyncio.gather(*(die(how, kernel) for how, kernel in doomed.items()))
    for how, (execution_id, result, queued) in zip(DEATHS, ended, strict=True):
        assert result["status"] == "error", how
        last = ops_of(bridge, execution_id)[-1]["output"]
        assert last["output_type"] == "error" and last["ename"] == "KernelDied", how
        assert queued.status == "aborted", how
        kernel_id = doomed[how]["kernelId"]
        assert any(n["kernelId"] == kernel_id and n["state"] == "dead"
                   for n in bridge.notifications["kernel/status"]), how
    reasons = {how: ops_of(bridge, ended[i][0])[-1]["output"]["evalue"]
               for i, how in enumerate(DEATHS)}
    assert "SIGKILL" in reasons["sigkill"]
    assert "SIGSEGV" in reasons["segfault"]
    assert "3" in reasons["exit 3"]

    healthy_cell = await counting
    assert healthy_cell.status == "ok"
    assert healthy_cell.text() == f"{sum(range(40))}\n"

    for kernel in doomed.values():
        restarted = await bridge.request("kernel/restart", {"kernelId": kernel["kernelId"]},
                                         timeout=300)
        assert restarted["state"] == "idle"
        assert (await run(bridge, kernel["kernelId"], "'alive'")).status == "ok"


@pytest.mark.timeout(300)
async def test_a_kernel_that_never_answers_fails_its_start_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = tmp_path / "kernels" / "sleeper"
    spec.mkdir(parents=True)
    marker = f"nbbridge-never-ready-{tmp_path.name}"
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-c", f"import time; time.sleep(600)  # {marker}",
                 "{connection_file}"],
        "display_name": "Never ready", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    client = await BridgeClient.start()
    try:
        await client.initialize({"kernelStartTimeout": 3})
        with pytest.raises(RpcError) as failed:
            await client.request("kernel/start", {"kernelName": "sleeper"}, timeout=120)
        assert failed.value.code == -32012
        assert "did not answer within 3 s" in failed.value.message
        assert "sleeper" in failed.value.message

        def leftovers() -> list[psutil.Process]:
            found = []
            for process in psutil.process_iter(["cmdline"]):
                if marker in " ".join(process.info["cmdline"] or []):
                    found.append(process)
            return found

        await wait_until(lambda: not leftovers(), timeout=30)
        # the bridge is fine and starts a real kernel afterwards
        started = await client.request("kernel/start", {}, timeout=300)
        assert (await run(client, started["kernelId"], "1 + 1")).status == "ok"
    finally:
        await client.shutdown()
