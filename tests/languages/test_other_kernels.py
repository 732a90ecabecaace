"""Every kernel the tests install works through the bridge as the Python kernel does:
start, results, errors, rich output, input(), interrupt, restart, shutdown."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import psutil
import pytest

from bridge_client import BridgeClient
from conftest import require_kernel
from kernel_helpers import pid_alive, queue, run, wait_until

pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass(frozen=True)
class Language:
    kernel: str
    transport: str
    result: str  # code whose value (or output) shows "42"
    error: str  # code that fails
    ename: str  # the kernel's error name for it ("" where the kernel names none)
    evalue: str  # a part of the error value
    rich: str  # code that displays HTML
    ask: str  # code that asks for input and prints "hello <answer>"
    long: str  # code that runs until interrupted
    define: str  # code that sets a variable `answer` to 42


LANGUAGES = {
    "bash": Language(
        "bash", "ipc", "echo $((6 * 7))", "ls /no/such/folder", "", "2",
        "echo '<b>bold</b>' | displayHTML", "", "sleep 60", "answer=42"),
    "ir": Language(
        "ir", "ipc", "6 * 7", 'stop("boom")', "ERROR", "boom",
        'IRdisplay::display_html("<b>bold</b>")',
        'name <- readline("name? "); cat("hello", name)', "Sys.sleep(60)", "answer <- 42"),
    "deno": Language(
        "deno", "tcp", "6 * 7", 'throw new Error("boom")', "Error", "boom",
        'Deno.jupyter.html`<b>bold</b>`',
        'const name = prompt("name?"); console.log("hello " + name)',
        # Deno interrupts running JavaScript, not a pending timer
        "while (true) {}", "var answer = 42"),
    "xpython": Language(
        # xeus-python names an error by its class's repr
        "xpython", "ipc", "6 * 7", "1 / 0", "<class 'ZeroDivisionError'>", "division by zero",
        "from IPython.display import HTML\nHTML('<b>bold</b>')",
        "name = input('name? ')\nprint('hello', name)",
        "import time\ntime.sleep(60)", "answer = 42"),
}


def language(name: str) -> Language:
    require_kernel(name)
    return LANGUAGES[name]


@pytest.fixture(params=sorted(LANGUAGES), scope="module")
def kernel_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def started(client: BridgeClient, name: str) -> dict[str, Any]:
    result: dict[str, Any] = await client.request("kernel/start", {"kernelName": name})
    return result


async def test_run_result_error_and_rich_output(languages_bridge: BridgeClient,
                                                kernel_name: str) -> None:
    lang = language(kernel_name)
    kernel = await started(languages_bridge, lang.kernel)
    kid = kernel["kernelId"]
    try:
        assert kernel["transport"] == lang.transport
        cell = await run(languages_bridge, kid, lang.result)
        assert cell.status == "ok"
        shown = cell.text() + "".join(
            o.get("data", {}).get("text/plain", "") for o in cell.outputs)
        assert "42" in shown

        failed = await run(languages_bridge, kid, lang.error)
        assert failed.status == "error"
        errors = [o for o in failed.outputs if o["output_type"] == "error"]
        assert len(errors) == 1
        assert errors[0]["ename"] == lang.ename and lang.evalue in errors[0]["evalue"]
        assert isinstance(errors[0]["traceback"], list)

        rich = await run(languages_bridge, kid, lang.rich)
        assert rich.status == "ok"
        html = [o["data"]["text/html"] for o in rich.outputs if "text/html" in o.get("data", {})]
        assert html and "<b>bold</b>" in html[0]
    finally:
        await languages_bridge.request("kernel/shutdown", {"kernelId": kid})


async def test_input_reaches_the_client(languages_bridge: BridgeClient,
                                        kernel_name: str) -> None:
    lang = language(kernel_name)
    kernel = await started(languages_bridge, lang.kernel)
    kid = kernel["kernelId"]
    asked: list[str] = []

    async def answer(params: dict[str, Any]) -> dict[str, Any]:
        asked.append(params["prompt"])
        return {"value": "Ada"}

    languages_bridge.server_request_handlers["kernel/input"] = answer
    try:
        if not lang.ask:
            # bash_kernel has no stdin: `read` says so on the cell instead of hanging
            cell = await run(languages_bridge, kid, "read name; echo \"got:$name\"")
            assert "this kernel cannot ask for input" in cell.text()
            assert "got:\n" in cell.text() and asked == []
            piped = await run(languages_bridge, kid, "read name <<< Ada; echo \"hello $name\"")
            assert "hello Ada" in piped.text()
            return
        cell = await run(languages_bridge, kid, lang.ask)
        assert cell.status == "ok"
        assert len(asked) == 1 and "name?" in asked[0]
        assert "hello Ada" in cell.text()
    finally:
        await languages_bridge.request("kernel/shutdown", {"kernelId": kid})


async def test_interrupt_ends_the_cell_with_an_error_and_stops_the_queue(
        languages_bridge: BridgeClient, kernel_name: str) -> None:
    lang = language(kernel_name)
    kernel = await started(languages_bridge, lang.kernel)
    kid = kernel["kernelId"]
    try:
        await run(languages_bridge, kid, lang.define)
        long = await queue(languages_bridge, kid, lang.long)
        after = await queue(languages_bridge, kid, lang.result)
        await wait_until(lambda: any(
            s["kernelId"] == kid and s["state"] == "busy"
            for s in languages_bridge.notifications["kernel/status"]))
        await asyncio.sleep(0.5)  # the kernel is inside the long cell's code
        assert await languages_bridge.request("kernel/interrupt", {"kernelId": kid}) is None
        cell = await long
        assert cell.status == "error"
        assert [o for o in cell.outputs if o["output_type"] == "error"]
        assert (await after).status == "aborted"
        # the kernel survived with its state
        still = await run(languages_bridge, kid, lang.result)
        assert still.status == "ok"
        specs = await languages_bridge.request("kernel/specs", {})
        assert [s for s in specs["specs"] if s["name"] == lang.kernel]
    finally:
        await languages_bridge.request("kernel/shutdown", {"kernelId": kid})


async def test_restart_and_shutdown_leave_no_process(languages_bridge: BridgeClient,
                                                     kernel_name: str) -> None:
    lang = language(kernel_name)
    kernel = await started(languages_bridge, lang.kernel)
    kid, first_pid = kernel["kernelId"], kernel["pid"]
    family = [first_pid, *(p.pid for p in psutil.Process(first_pid).children(recursive=True))]
    restarted = await languages_bridge.request("kernel/restart", {"kernelId": kid})
    assert restarted["pid"] != first_pid
    await wait_until(lambda: not any(pid_alive(pid) for pid in family))
    assert (await run(languages_bridge, kid, lang.result)).status == "ok"
    second = restarted["pid"]
    family = [second, *(p.pid for p in psutil.Process(second).children(recursive=True))]
    await languages_bridge.request("kernel/shutdown", {"kernelId": kid})
    await wait_until(lambda: not any(pid_alive(pid) for pid in family))
