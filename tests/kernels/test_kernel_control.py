"""Interrupt, restart and shutdown of a real kernel through kernel/* requests."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bridge_client import BridgeClient, RpcError
from kernel_helpers import new_execution_id, pid_alive, queue, run, wait_until

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def running(client: BridgeClient, kernel_id: str, code: str
                  ) -> tuple[asyncio.Task[Any], str]:
    """Start a cell and return once its first output shows it is running."""
    execution_id = new_execution_id()
    task = asyncio.create_task(client.request("kernel/execute", {
        "kernelId": kernel_id, "code": code, "executionId": execution_id}))
    await client.wait_for_notification(
        "kernel/output", lambda n: n["executionId"] == execution_id, timeout=60)
    return task, execution_id


async def test_interrupt_stops_a_long_sleep(module_bridge: BridgeClient,
                                            kernel: dict[str, Any]) -> None:
    kid = kernel["kernelId"]
    task, _ = await running(module_bridge, kid,
                            "import time\nprint('sleeping', flush=True)\ntime.sleep(60)")
    queued = await queue(module_bridge, kid, "print('queued')")  # queued before the interrupt
    assert await module_bridge.request("kernel/interrupt", {"kernelId": kid}) is None
    # generous deadline: the sleep would take 60 s, an interrupt far less
    result = await asyncio.wait_for(task, 30)
    assert result["status"] == "error"
    assert (await queued).status == "aborted"
    after = await run(module_bridge, kid, "'alive'")
    assert after.outputs[0]["data"]["text/plain"] == "'alive'"


async def test_interrupted_cell_shows_keyboard_interrupt(module_bridge: BridgeClient,
                                                         kernel: dict[str, Any]) -> None:
    kid = kernel["kernelId"]
    task, execution_id = await running(
        module_bridge, kid, "import time\nprint('go', flush=True)\ntime.sleep(60)")
    await module_bridge.request("kernel/interrupt", {"kernelId": kid})
    await asyncio.wait_for(task, 30)
    errors = [op["output"] for note in module_bridge.notifications["kernel/output"]
              if note["executionId"] == execution_id for op in note["ops"]
              if op["op"] == "append"]
    assert errors[-1]["ename"] == "KeyboardInterrupt"


async def test_restart_keeps_the_id_and_forgets_state(module_bridge: BridgeClient,
                                                      kernel: dict[str, Any]) -> None:
    kid = kernel["kernelId"]
    await run(module_bridge, kid, "forgotten = 1")
    old_pid = kernel["pid"]
    restarted = await module_bridge.request("kernel/restart", {"kernelId": kid})
    assert restarted["kernelId"] == kid
    assert restarted["pid"] != old_pid
    await wait_until(lambda: not pid_alive(old_pid))
    cell = await run(module_bridge, kid, "forgotten")
    assert cell.status == "error" and cell.outputs[-1]["ename"] == "NameError"
    assert cell.result["executionCount"] == 1
    states = [n["state"] for n in module_bridge.notifications["kernel/status"]
              if n["kernelId"] == kid]
    assert "restarting" in states
    kernel["pid"] = restarted["pid"]


async def test_restart_aborts_running_and_queued_cells(module_bridge: BridgeClient,
                                                       kernel: dict[str, Any]) -> None:
    kid = kernel["kernelId"]
    task, _ = await running(module_bridge, kid,
                            "import time\nprint('busy', flush=True)\ntime.sleep(60)")
    queued = await queue(module_bridge, kid, "print('never')")
    restarted = await module_bridge.request("kernel/restart", {"kernelId": kid})
    assert (await asyncio.wait_for(task, 30))["status"] == "aborted"
    assert (await queued).status == "aborted"
    assert (await queued).ops == []
    cell = await run(module_bridge, kid, "1")
    assert cell.status == "ok"
    kernel["pid"] = restarted["pid"]


async def test_shutdown_ends_the_process_and_forgets_the_id(
        module_bridge: BridgeClient) -> None:
    started = await module_bridge.request("kernel/start", {})
    kid, pid = started["kernelId"], started["pid"]
    assert pid_alive(pid)
    assert await module_bridge.request("kernel/shutdown", {"kernelId": kid}) is None
    await wait_until(lambda: not pid_alive(pid))
    with pytest.raises(RpcError) as error:
        await module_bridge.request("kernel/execute",
                                    {"kernelId": kid, "code": "1", "executionId": "x"})
    assert error.value.code == -32010
    dead = [n for n in module_bridge.notifications["kernel/status"]
            if n["kernelId"] == kid and n["state"] == "dead"]
    assert dead == [{"kernelId": kid, "state": "dead", "reason": "shut down"}]


async def test_a_cell_sent_during_a_restart_runs_after_it(module_bridge: BridgeClient,
                                                          kernel: dict[str, Any]) -> None:
    kid = kernel["kernelId"]
    await run(module_bridge, kid, "before_restart = 1")
    restart = module_bridge.send_request("kernel/restart", {"kernelId": kid})  # sent first
    cell = await run(module_bridge, kid, "'before_restart' in dir()")
    restarted = await restart
    assert cell.status == "ok"
    assert cell.outputs[0]["data"]["text/plain"] == "False"
    assert cell.result["executionCount"] == 1
    kernel["pid"] = restarted["pid"]
