"""A kernel that dies mid-cell: the cell ends in error saying so, the bridge lives on."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import pytest

from bridge_client import BridgeClient, RpcError
from kernel_helpers import new_execution_id, ops_of, queue, run

pytestmark = pytest.mark.asyncio(loop_scope="module")


def dead_notes(client: BridgeClient, kernel_id: str) -> list[dict[str, Any]]:
    return [n for n in client.notifications["kernel/status"]
            if n["kernelId"] == kernel_id and n["state"] == "dead"]


async def test_kill_9_mid_cell(module_bridge: BridgeClient,
                               kernel: dict[str, Any]) -> None:
    kid = kernel["kernelId"]
    execution_id = new_execution_id()
    running = asyncio.create_task(module_bridge.request("kernel/execute", {
        "kernelId": kid, "executionId": execution_id,
        "code": "import time\nprint('working', flush=True)\ntime.sleep(60)"}))
    await module_bridge.wait_for_notification(
        "kernel/output", lambda n: n["executionId"] == execution_id)
    queued = await queue(module_bridge, kid, "print('queued')")
    os.kill(kernel["pid"], signal.SIGKILL)
    # generous deadline for "within a second or two"; the benchmark measures it
    result = await asyncio.wait_for(running, 30)
    assert result["status"] == "error"
    died = ops_of(module_bridge, execution_id)[-1]["output"]
    assert died["output_type"] == "error" and died["ename"] == "KernelDied"
    assert "SIGKILL" in died["evalue"]
    assert (await queued).status == "aborted"
    assert [n.get("reason") for n in dead_notes(module_bridge, kid)] == [
        "the kernel died (killed by SIGKILL)"]


async def test_a_dead_kernel_refuses_work_until_restarted(
        module_bridge: BridgeClient, kernel: dict[str, Any]) -> None:
    kid = kernel["kernelId"]
    with pytest.raises(RpcError) as error:
        await run(module_bridge, kid, "1")
    assert error.value.code == -32011 and "restart" in error.value.message
    restarted = await module_bridge.request("kernel/restart", {"kernelId": kid})
    assert restarted["kernelId"] == kid and restarted["state"] == "idle"
    cell = await run(module_bridge, kid, "'back'")
    assert cell.outputs[0]["data"]["text/plain"] == "'back'"
    kernel["pid"] = restarted["pid"]


async def test_os_exit_reports_the_exit_code(module_bridge: BridgeClient,
                                             kernel: dict[str, Any]) -> None:
    kid = kernel["kernelId"]
    cell = await run(module_bridge, kid, "import os\nos._exit(3)", timeout=60)
    assert cell.status == "error"
    assert cell.outputs[-1]["evalue"] == "the kernel died (exit code 3)"
    assert dead_notes(module_bridge, kid)[-1]["reason"] == "the kernel died (exit code 3)"
    restarted = await module_bridge.request("kernel/restart", {"kernelId": kid})
    kernel["pid"] = restarted["pid"]


async def test_segfault_is_a_death_too(module_bridge: BridgeClient,
                                       kernel: dict[str, Any]) -> None:
    kid = kernel["kernelId"]
    cell = await run(module_bridge, kid, "import ctypes\nctypes.string_at(0)", timeout=60)
    assert cell.status == "error"
    assert cell.outputs[-1]["evalue"] == "the kernel died (killed by SIGSEGV)"
    restarted = await module_bridge.request("kernel/restart", {"kernelId": kid})
    assert (await run(module_bridge, kid, "2*3")).outputs[0]["data"]["text/plain"] == "6"
    kernel["pid"] = restarted["pid"]


async def test_the_bridge_still_answers(module_bridge: BridgeClient) -> None:
    specs = await module_bridge.request("kernel/specs", {})
    assert specs["default"] == "python3"
