"""Kernels outlive the bridge: a bridge killed mid-cell, another attaching later, and
every output line exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import pytest

from bridge_client import BridgeClient
from host.host_helpers import Hosted
from kernels.kernel_helpers import new_execution_id, outputs_from, pid_alive, run, wait_until

NOTEBOOK = "file:///tmp/durable-test.ipynb"
THIRTY_LINES = ("import time\n"
                "for i in range(30):\n"
                "    print(f'line {i}', flush=True)\n"
                "    time.sleep(0.1)\n")
EXPECTED = "".join(f"line {i}\n" for i in range(30))


def stdout_of(outputs: list[dict[str, Any]]) -> str:
    return "".join(o["text"] if isinstance(o["text"], str) else "".join(o["text"])
                   for o in outputs if o["output_type"] == "stream" and o["name"] == "stdout")


async def kill_during_thirty_lines(client: BridgeClient, kernel_id: str) -> str:
    """Start the 30-line cell, wait for its first lines, SIGKILL the bridge."""
    execution_id = new_execution_id()
    client.send_request("kernel/execute", {"kernelId": kernel_id, "code": THIRTY_LINES,
                                           "executionId": execution_id, "cellId": "c-30"})
    await client.wait_for_notification(
        "kernel/output", lambda n: n["executionId"] == execution_id
        and "line 2\n" in "".join(op.get("text", "") for op in n["ops"]))
    client.process.send_signal(signal.SIGKILL)
    await client.process.wait()
    return execution_id


@pytest.mark.parametrize("gap", [0.5, 1.5, 10.0])
async def test_a_cell_running_when_the_bridge_died_goes_on_and_nothing_is_lost(
        hosted: Hosted, gap: float) -> None:
    first = await hosted.bridge()
    started = await first.request("kernel/start", {"notebookUri": NOTEBOOK})
    kernel_id = started["kernelId"]
    assert started["durable"] is True and started["hostPid"] == hosted.host_pid()
    assert (await run(first, kernel_id, "x = 42")).status == "ok"
    execution_id = await kill_during_thirty_lines(first, kernel_id)
    assert pid_alive(started["pid"])  # the kernel did not die with its bridge
    await asyncio.sleep(gap)

    second = await hosted.bridge()
    attached = await second.request("kernel/attach", {"notebookUri": NOTEBOOK})
    assert attached["kernel"]["kernelId"] == kernel_id
    (entry,) = [e for e in attached["executions"] if e["executionId"] == execution_id]
    assert entry["cellId"] == "c-30"
    if entry["status"] == "running":
        ended = await second.wait_for_notification(
            "kernel/executionEnded", lambda n: n["executionId"] == execution_id, timeout=30)
        assert ended["status"] == "ok" and ended["executionCount"] == 2
    # what the journal had, then what came after it: every line once, in order
    later = [op for note in second.notifications["kernel/output"]
             if note["executionId"] == execution_id for op in note["ops"]]
    outputs = [dict(output) for output in entry["outputs"]]
    folded = outputs_from(later) if entry["status"] == "running" else []
    assert stdout_of(outputs) + stdout_of(folded) == EXPECTED
    if entry["status"] != "running":  # it finished while nobody watched
        assert entry["status"] == "ok" and entry["executionCount"] == 2 and not later
    if gap >= 5:
        assert entry["status"] == "ok"
    # the kernel's state is the one the first bridge left
    check = await run(second, kernel_id, "print(x)")
    assert check.text() == "42\n"


async def test_two_bridges_on_one_kernel_see_the_same_outputs(hosted: Hosted) -> None:
    first = await hosted.bridge()
    started = await first.request("kernel/start", {"notebookUri": NOTEBOOK})
    kernel_id = started["kernelId"]
    second = await hosted.bridge()
    attached = await second.request("kernel/attach", {"notebookUri": NOTEBOOK})
    assert attached["kernel"]["kernelId"] == kernel_id
    cell = await run(first, kernel_id, "for i in range(5): print(i)")
    ended = await second.wait_for_notification(
        "kernel/executionEnded", lambda n: n["executionId"] == cell.execution_id)
    seen = outputs_from([op for note in second.notifications["kernel/output"]
                         if note["executionId"] == cell.execution_id for op in note["ops"]])
    assert stdout_of(seen) == stdout_of(cell.outputs) == "0\n1\n2\n3\n4\n"
    assert ended["executionCount"] == cell.result["executionCount"]
    # and the other way round
    back = await run(second, kernel_id, "print('from two')")
    await first.wait_for_notification(
        "kernel/executionEnded", lambda n: n["executionId"] == back.execution_id)
    assert back.text() == "from two\n"


async def test_another_clients_run_comes_with_its_cell_id(hosted: Hosted) -> None:
    first = await hosted.bridge()
    kernel_id = (await first.request("kernel/start", {"notebookUri": NOTEBOOK}))["kernelId"]
    second = await hosted.bridge()
    await second.request("kernel/attach", {"notebookUri": NOTEBOOK})
    execution_id = new_execution_id()
    await first.request("kernel/execute", {"kernelId": kernel_id, "code": "print('shown')",
                                           "executionId": execution_id, "cellId": "c-two"})
    ended = await second.wait_for_notification(
        "kernel/executionEnded", lambda n: n["executionId"] == execution_id)
    outputs = [note for note in second.notifications["kernel/output"]
               if note["executionId"] == execution_id]
    # the second client never saw this run start: the cell id says which cell shows it
    assert ended["cellId"] == "c-two"
    assert outputs and all(note["cellId"] == "c-two" for note in outputs)


async def test_a_quiet_running_cell_is_followed_after_an_attach_after_its_last_output(
        hosted: Hosted) -> None:
    first = await hosted.bridge()
    kernel_id = (await first.request("kernel/start", {"notebookUri": NOTEBOOK}))["kernelId"]
    execution_id = new_execution_id()
    first.send_request("kernel/execute", {
        "kernelId": kernel_id, "executionId": execution_id, "cellId": "c-quiet",
        "code": "import time\nprint('before', flush=True)\ntime.sleep(3)\nprint('after')"})
    note = await first.wait_for_notification(
        "kernel/output", lambda n: n["executionId"] == execution_id)
    await asyncio.sleep(0.5)  # nothing more is printed for a while
    first.process.send_signal(signal.SIGKILL)
    await first.process.wait()

    second = await hosted.bridge()
    attached = await second.request("kernel/attach",
                                    {"notebookUri": NOTEBOOK, "afterSeq": note["seq"]})
    (entry,) = [e for e in attached["executions"] if e["executionId"] == execution_id]
    assert entry["status"] == "running" and stdout_of(entry["outputs"]) == "before\n"
    ended = await second.wait_for_notification(
        "kernel/executionEnded", lambda n: n["executionId"] == execution_id, timeout=30)
    assert ended["status"] == "ok"


async def test_input_asked_while_nobody_was_attached_is_asked_again(hosted: Hosted) -> None:
    first = await hosted.bridge()
    started = await first.request("kernel/start", {"notebookUri": NOTEBOOK})
    kernel_id = started["kernelId"]
    asked = asyncio.Event()

    async def never_answer(params: Any) -> Any:
        asked.set()
        await asyncio.sleep(3600)

    first.server_request_handlers["kernel/input"] = never_answer
    execution_id = new_execution_id()
    first.send_request("kernel/execute", {"kernelId": kernel_id, "executionId": execution_id,
                                          "code": "print('you said', input('name? '))"})
    await asyncio.wait_for(asked.wait(), 30)
    first.process.send_signal(signal.SIGKILL)
    await first.process.wait()

    second = await hosted.bridge()
    prompts: list[Any] = []

    async def answer(params: Any) -> Any:
        prompts.append(params)
        return {"value": "Ada"}

    second.server_request_handlers["kernel/input"] = answer
    attached = await second.request("kernel/attach", {"notebookUri": NOTEBOOK})
    (entry,) = attached["executions"]
    assert entry["pendingInput"] == {"prompt": "name? ", "password": False}
    await second.wait_for_notification(
        "kernel/executionEnded", lambda n: n["executionId"] == execution_id, timeout=30)
    assert [p["prompt"] for p in prompts] == ["name? "]
    later = outputs_from([op for note in second.notifications["kernel/output"]
                          if note["executionId"] == execution_id for op in note["ops"]])
    assert "you said Ada" in stdout_of(later)


async def test_a_kernel_that_died_while_detached_is_reported_on_its_cell(
        hosted: Hosted) -> None:
    first = await hosted.bridge()
    started = await first.request("kernel/start", {"notebookUri": NOTEBOOK})
    kernel_id = started["kernelId"]
    execution_id = new_execution_id()
    first.send_request("kernel/execute", {
        "kernelId": kernel_id, "executionId": execution_id,
        "code": "import time; print('up', flush=True); time.sleep(60)"})
    await first.wait_for_notification(
        "kernel/output", lambda n: n["executionId"] == execution_id)
    first.process.send_signal(signal.SIGKILL)
    await first.process.wait()
    os.kill(started["pid"], signal.SIGKILL)
    await wait_until(lambda: not pid_alive(started["pid"]))
    await asyncio.sleep(0.5)

    second = await hosted.bridge()
    attached = await second.request("kernel/attach", {"notebookUri": NOTEBOOK})
    assert attached["kernel"] is None
    assert attached["ended"]["kernelId"] == kernel_id
    assert "SIGKILL" in attached["ended"]["reason"]
    (entry,) = attached["executions"]
    assert entry["status"] == "error"
    assert [o.get("ename") for o in entry["outputs"]][-1] == "KernelDied"
    assert stdout_of(entry["outputs"]) == "up\n"
    # reported once: the host let go of the dead kernel
    again = await second.request("kernel/attach", {"notebookUri": NOTEBOOK})
    assert again["kernel"] is None and again["executions"] == []
