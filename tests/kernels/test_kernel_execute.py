"""kernel/execute through a real bridge and ipykernel: results, output kinds, ordering."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import pytest

from bridge.kernels.outputs import DisplayIndex

from bridge_client import BridgeClient, RpcError
from kernel_helpers import new_execution_id, ops_of, queue, run, wait_until

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_one_plus_one_gives_execute_result_2(module_bridge: BridgeClient,
                                                   kernel: dict[str, Any]) -> None:
    cell = await run(module_bridge, kernel["kernelId"], "1+1")
    assert cell.status == "ok"
    assert isinstance(cell.result["executionCount"], int)
    assert cell.result["startedAt"] <= cell.result["endedAt"]
    assert cell.outputs == [{
        "output_type": "execute_result", "execution_count": cell.result["executionCount"],
        "data": {"text/plain": "2"}, "metadata": {},
    }]


async def test_start_result_describes_the_kernel(kernel: dict[str, Any]) -> None:
    assert kernel["languageInfo"]["name"] == "python"
    assert kernel["specName"] == "python3"
    assert kernel["implementation"] == "ipython"
    assert "kernel subshells" in kernel["supportedFeatures"]
    assert kernel["state"] == "idle"


async def test_print_html_and_matplotlib_png_in_order(module_bridge: BridgeClient,
                                                      kernel: dict[str, Any]) -> None:
    code = (
        "%matplotlib inline\n"
        "import matplotlib.pyplot as plt\n"
        "from IPython.display import HTML, display\n"
        "print('before')\n"
        "display(HTML('<b>bold</b>'))\n"
        "plt.plot([1, 2, 3]); plt.show()\n"
        "print('after')\n"
    )
    cell = await run(module_bridge, kernel["kernelId"], code)
    assert cell.status == "ok"
    kinds = [(o["output_type"], o.get("name") or sorted(o.get("data", {}))[0])
             for o in cell.outputs]
    assert kinds == [("stream", "stdout"), ("display_data", "text/html"),
                     ("display_data", "image/png"), ("stream", "stdout")]
    assert cell.outputs[1]["data"]["text/html"] == "<b>bold</b>"
    png = base64.b64decode(cell.outputs[2]["data"]["image/png"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert cell.text() == "before\nafter\n"


async def test_update_display_reaches_an_earlier_cell(module_bridge: BridgeClient,
                                                      kernel: dict[str, Any]) -> None:
    displays: DisplayIndex = {}
    first = await run(module_bridge, kernel["kernelId"],
                      "from IPython.display import display\n"
                      "handle = display('one', display_id='progress')", displays)
    assert [op.get("displayId") for op in first.ops] == ["progress"]
    second = await run(module_bridge, kernel["kernelId"],
                       "handle.update('two'); print('updated')", displays)
    replace = [op for op in second.ops if op["op"] == "replace"]
    assert replace == [{"op": "replace", "displayId": "progress", "output": {
        "output_type": "display_data", "data": {"text/plain": "'two'"}, "metadata": {}}}]
    assert first.outputs[0]["data"] == {"text/plain": "'two'"}
    assert second.outputs == [{"output_type": "stream", "name": "stdout", "text": "updated\n"}]


async def test_clear_output_wait_clears_just_before_the_next_output(
        module_bridge: BridgeClient, kernel: dict[str, Any]) -> None:
    code = (
        "from IPython.display import clear_output\n"
        "for i in range(3):\n"
        "    clear_output(wait=True)\n"
        "    print(f'step {i}', flush=True)\n"
        "clear_output(wait=True)\n"  # nothing after it: the last output stays
    )
    cell = await run(module_bridge, kernel["kernelId"], code)
    assert cell.outputs == [{"output_type": "stream", "name": "stdout", "text": "step 2\n"}]
    # each clear travels right before the text that replaces what it clears
    kinds = [op["op"] for op in cell.ops]
    assert kinds[-2:] == ["clear", "appendText"]
    assert kinds.count("clear") <= 3


async def test_clear_output_now(module_bridge: BridgeClient,
                                kernel: dict[str, Any]) -> None:
    cell = await run(module_bridge, kernel["kernelId"],
                     "from IPython.display import clear_output\n"
                     "print('gone', flush=True); clear_output()")
    assert cell.outputs == []
    assert cell.ops[-1] == {"op": "clear"}


async def test_error_output_has_ename_evalue_traceback(module_bridge: BridgeClient,
                                                       kernel: dict[str, Any]) -> None:
    cell = await run(module_bridge, kernel["kernelId"], "print('x')\nraise ValueError('bad value')")
    assert cell.status == "error"
    error = cell.outputs[-1]
    assert error["output_type"] == "error"
    assert error["ename"] == "ValueError"
    assert error["evalue"] == "bad value"
    assert any("bad value" in line for line in error["traceback"])
    assert cell.outputs[0]["text"] == "x\n"


def wait_for_file(path: Path) -> str:
    """Kernel code that waits until the test creates `path`: the cell keeps running
    until the test has done what must happen meanwhile."""
    # a cap, so that a failing test cannot leave the module's kernel busy for good
    return (f"import os, time\ngive_up = time.monotonic() + 120\n"
            f"while not os.path.exists({str(path)!r}) and time.monotonic() < give_up:\n"
            f"    time.sleep(0.01)\n")


async def test_cells_after_an_error_are_aborted_in_order(module_bridge: BridgeClient,
                                                         kernel: dict[str, Any],
                                                         tmp_path: Path) -> None:
    kid = kernel["kernelId"]
    go = tmp_path / "go"
    first = await queue(module_bridge, kid, wait_for_file(go) + "order = ['a']")
    try:
        rest = [await queue(module_bridge, kid, code) for code in (
            "order.append('b'); 1/0", "order.append('c')", "order.append('d')")]
    finally:
        go.touch()  # every cell is queued: now the first may end
    cells = [await first] + [await cell for cell in rest]
    assert [c.status for c in cells] == ["ok", "error", "aborted", "aborted"]
    assert cells[2].ops == [] and cells[2].result["executionCount"] is None
    after = await run(module_bridge, kid, "print(order)")
    assert after.text() == "['a', 'b']\n"


async def test_stop_on_error_false_runs_the_rest(module_bridge: BridgeClient,
                                                 kernel: dict[str, Any]) -> None:
    kid = kernel["kernelId"]
    cells = await asyncio.gather(
        run(module_bridge, kid, "seen = []; 1/0", stopOnError=False),
        run(module_bridge, kid, "seen.append(1); seen"),
    )
    assert [c.status for c in cells] == ["error", "ok"]
    assert cells[1].outputs[0]["data"]["text/plain"] == "[1]"


async def test_queued_cells_run_in_submission_order(module_bridge: BridgeClient,
                                                    kernel: dict[str, Any]) -> None:
    kid = kernel["kernelId"]
    await run(module_bridge, kid, "trail = []")
    cells = await asyncio.gather(*(run(module_bridge, kid, f"trail.append({i})")
                                   for i in range(10)))
    assert all(c.status == "ok" for c in cells)
    counts = [c.result["executionCount"] for c in cells]
    assert counts == sorted(counts)
    assert (await run(module_bridge, kid, "trail")).outputs[0]["data"]["text/plain"] == \
        str(list(range(10)))


async def test_every_output_arrives_before_the_response(module_bridge: BridgeClient,
                                                        kernel: dict[str, Any]) -> None:
    kid = kernel["kernelId"]
    execution_id = new_execution_id()
    await module_bridge.request("kernel/execute", {
        "kernelId": kid, "executionId": execution_id,
        "code": "import sys\nfor i in range(2000): print(i); print(i, file=sys.stderr)"})
    received = len(ops_of(module_bridge, execution_id))
    await run(module_bridge, kid, "import time; time.sleep(0.2); print('later')")
    assert len(ops_of(module_bridge, execution_id)) == received
    text = "".join(op["text"] for op in ops_of(module_bridge, execution_id)
                   if op["name"] == "stdout")
    assert text == "".join(f"{i}\n" for i in range(2000))


async def test_stream_shows_before_the_cell_ends(module_bridge: BridgeClient,
                                                 kernel: dict[str, Any]) -> None:
    execution_id = new_execution_id()
    request = asyncio.create_task(module_bridge.request("kernel/execute", {
        "kernelId": kernel["kernelId"], "executionId": execution_id,
        "code": "import time\nprint('early', flush=True)\ntime.sleep(3)"}))
    note = await module_bridge.wait_for_notification(
        "kernel/output", lambda n: n["executionId"] == execution_id, timeout=30)
    assert not request.done()
    assert note["ops"] == [{"op": "appendText", "name": "stdout", "text": "early\n"}]
    assert (await request)["status"] == "ok"


async def test_status_goes_busy_then_idle(module_bridge: BridgeClient,
                                          kernel: dict[str, Any]) -> None:
    kid = kernel["kernelId"]

    def states() -> list[str]:
        return [n["state"] for n in module_bridge.notifications["kernel/status"]
                if n["kernelId"] == kid]

    await wait_until(lambda: states()[-1] == "idle")  # the previous cell has settled
    before = len(states())
    await run(module_bridge, kid, "pass")
    await wait_until(lambda: len(states()) >= before + 2)
    assert states()[before:] == ["busy", "idle"]


@pytest.mark.parametrize("params, problem", [
    ({"code": "1"}, "'kernelId'"),
    ({"kernelId": "nope", "code": "1", "executionId": "x"}, "no kernel with id 'nope'"),
    ({"kernelId": None, "code": "1", "executionId": "x"}, "'kernelId' must be str"),
])
async def test_bad_execute_params_are_named(module_bridge: BridgeClient,
                                            params: dict[str, Any], problem: str) -> None:
    with pytest.raises(RpcError) as error:
        await module_bridge.request("kernel/execute", params)
    assert problem in error.value.message


async def test_execute_without_code_names_it(module_bridge: BridgeClient,
                                             kernel: dict[str, Any]) -> None:
    with pytest.raises(RpcError) as error:
        await module_bridge.request("kernel/execute", {"kernelId": kernel["kernelId"],
                                                       "executionId": "x"})
    assert error.value.code == -32602 and "'code'" in error.value.message


async def test_late_output_of_a_thread_reaches_its_cell(module_bridge: BridgeClient,
                                                        kernel: dict[str, Any]) -> None:
    cell = await run(module_bridge, kernel["kernelId"],
                     "import threading\n"
                     "threading.Timer(0.5, lambda: print('late', flush=True)).start()\n"
                     "print('now')")
    assert cell.text() == "now\n"
    late = await module_bridge.wait_for_notification(
        "kernel/output", lambda n: n["executionId"] == cell.execution_id
        and "late" in str(n["ops"]), timeout=30)
    assert late["ops"] == [{"op": "appendText", "name": "stdout", "text": "late\n"}]


async def test_a_cancelled_queued_cell_never_runs(module_bridge: BridgeClient,
                                                  kernel: dict[str, Any],
                                                  tmp_path: Path) -> None:
    kid = kernel["kernelId"]
    go = tmp_path / "go"
    first = await queue(module_bridge, kid, wait_for_file(go) + "flag = 'first'")
    try:
        queued = await queue(module_bridge, kid, "flag = 'cancelled'")
        # the queued cell's request is the last one still pending (the first's is older)
        module_bridge.notify("$/cancelRequest", {"id": max(module_bridge._pending)})
        with pytest.raises(RpcError) as error:
            await queued
    finally:
        go.touch()  # only now may the first cell end: the cancelled one was still queued
    assert error.value.code == -32800
    assert (await first).status == "ok"
    assert (await run(module_bridge, kid, "flag")).outputs[0]["data"]["text/plain"] == \
        "'first'"
