"""The host's lifetime policy: detached idle kernels are culled, busy ones never; the host
exits once it has nothing to do; killing it takes its kernels along; one host however
many bridges start at once."""

from __future__ import annotations

import asyncio
import os
import signal

from host.host_helpers import Hosted
from kernels.kernel_helpers import new_execution_id, pid_alive, run, wait_until


async def test_a_detached_idle_kernel_is_culled_and_a_busy_one_is_not(hosted: Hosted) -> None:
    bridge = await hosted.bridge(cullIdleAfter=1.5)
    idle = await bridge.request("kernel/start", {"notebookUri": "file:///tmp/idle.ipynb"})
    busy = await bridge.request("kernel/start", {"notebookUri": "file:///tmp/busy.ipynb"})
    execution_id = new_execution_id()
    bridge.send_request("kernel/execute", {
        "kernelId": busy["kernelId"], "executionId": execution_id,
        "code": "import time; print('up', flush=True); time.sleep(12); print('done')"})
    await bridge.wait_for_notification("kernel/output",
                                       lambda n: n["executionId"] == execution_id)
    bridge.process.send_signal(signal.SIGKILL)
    await bridge.process.wait()
    # the idle one goes after its 1.5 s; the busy one stays while its cell runs
    await wait_until(lambda: not pid_alive(idle["pid"]), timeout=20)
    assert pid_alive(busy["pid"])
    other = await hosted.bridge(cullIdleAfter=1.5)
    listed = {k["kernelId"]: k for k in (await other.request("kernel/list", {}))["kernels"]}
    assert idle["kernelId"] not in listed
    assert listed[busy["kernelId"]]["busy"] is True
    assert listed[busy["kernelId"]]["clients"] == 0
    await other.shutdown()
    # once its cell is over it is idle and detached: culled in turn
    await wait_until(lambda: not pid_alive(busy["pid"]), timeout=30)


async def test_never_cull_keeps_a_detached_idle_kernel(hosted: Hosted) -> None:
    bridge = await hosted.bridge(cullIdleAfter=None)
    started = await bridge.request("kernel/start", {"notebookUri": "file:///tmp/keep.ipynb"})
    await bridge.shutdown()
    await asyncio.sleep(3)
    assert pid_alive(started["pid"])
    other = await hosted.bridge()
    attached = await other.request("kernel/attach", {"notebookUri": "file:///tmp/keep.ipynb"})
    assert attached["kernel"]["kernelId"] == started["kernelId"]


async def test_the_host_exits_when_it_has_no_kernels_and_no_clients(hosted: Hosted) -> None:
    hosted.extra_env["NBBRIDGE_HOST_IDLE_EXIT"] = "1"
    bridge = await hosted.bridge()
    started = await bridge.request("kernel/start", {})
    host = hosted.host_pid()
    assert host is not None and started["hostPid"] == host
    await bridge.request("kernel/shutdown", {"kernelId": started["kernelId"]})
    await asyncio.sleep(2.5)
    assert pid_alive(host)  # a client is still there
    await bridge.shutdown()
    await wait_until(lambda: not pid_alive(host), timeout=20)
    assert not (hosted.folder / "kernel-host.sock").exists()


async def test_killing_the_host_kills_its_kernels(hosted: Hosted) -> None:
    bridge = await hosted.bridge()
    started = await bridge.request("kernel/start", {})
    kernel_pid = started["pid"]
    os.kill(started["hostPid"], signal.SIGKILL)
    await wait_until(lambda: not pid_alive(kernel_pid), timeout=20)
    dead = await bridge.wait_for_notification(
        "kernel/status", lambda n: n["kernelId"] == started["kernelId"]
        and n["state"] == "dead")
    assert "kernel host" in dead["reason"]
    # the next start brings a new host up
    again = await bridge.request("kernel/start", {})
    assert again["hostPid"] != started["hostPid"]
    assert (await run(bridge, again["kernelId"], "print(1 + 1)")).text() == "2\n"


async def test_bridges_starting_at_once_make_one_host(hosted: Hosted) -> None:
    bridges = await asyncio.gather(*(hosted.bridge() for _ in range(3)))
    started = await asyncio.gather(*(b.request("kernel/start", {}) for b in bridges))
    assert len({s["hostPid"] for s in started}) == 1
    assert hosted.host_pid() == started[0]["hostPid"]
