"""A bridge and a host of different versions: the old host is replaced when none of its
kernels is busy, and left alone (the bridge runs its kernels itself) when one is. And
kernel/list, the running-kernels listing."""

from __future__ import annotations

import asyncio
import os

import pytest

from bridge.kernels.host import host as host_module
from bridge.kernels.host.client import HostConnection
from bridge.kernels.host.host import KernelHost
from bridge.kernels.host.life import HostLife
from bridge.kernels.host.place import hold_life_lock, private_place
from bridge.kernels.session import KernelSession
from bridge.kernels.specs import spec_manager

from host.host_helpers import Hosted
from kernels.kernel_helpers import run


async def old_host(hosted: Hosted, monkeypatch: pytest.MonkeyPatch
                   ) -> tuple[KernelHost, asyncio.Task[None]]:
    """A host of an older version, serving in this process (its life lock let go when it
    ends), and the task that serves it."""
    monkeypatch.setattr(host_module, "__version__", "0.0.1-old")
    place = private_place(hosted.folder)
    lock = hold_life_lock(place)
    assert lock is not None
    old = KernelHost(place)

    async def serve_then_let_go() -> None:
        try:
            await old.serve()
        finally:
            os.close(lock)

    serving = asyncio.create_task(serve_then_let_go())
    await asyncio.sleep(0.2)
    return old, serving


async def test_an_idle_host_of_another_version_is_replaced(
        hosted: Hosted, monkeypatch: pytest.MonkeyPatch) -> None:
    _, serving = await old_host(hosted, monkeypatch)
    bridge = await hosted.bridge()
    started = await bridge.request("kernel/start", {})
    await asyncio.wait_for(serving, 30)  # the old host was asked to exit, and did
    assert started["durable"] is True
    assert started["hostPid"] != os.getpid() and started["hostPid"] == hosted.host_pid()
    assert (await run(bridge, started["kernelId"], "print('new host')")).text() == "new host\n"


async def test_kernel_list_shows_every_kernel_of_the_host(hosted: Hosted) -> None:
    first = await hosted.bridge()
    mine = await first.request("kernel/start", {"notebookUri": "file:///tmp/a.ipynb"})
    second = await hosted.bridge()
    theirs = await second.request("kernel/start", {"notebookUri": "file:///tmp/b.ipynb"})
    listed: dict[str, dict[str, object]] = {}
    for _ in range(100):  # a start's own silent set-up may still be running a moment
        listed = {k["kernelId"]: k for k in (await first.request("kernel/list", {}))["kernels"]}
        if all(k["state"] == "idle" for k in listed.values()):
            break
        await asyncio.sleep(0.1)
    assert set(listed) == {mine["kernelId"], theirs["kernelId"]}
    assert listed[mine["kernelId"]]["here"] is True
    assert listed[theirs["kernelId"]]["here"] is False
    assert listed[theirs["kernelId"]]["notebookUri"] == "file:///tmp/b.ipynb"
    for kernel in listed.values():
        assert kernel["state"] == "idle" and kernel["clients"] == 1
        assert isinstance(kernel["memory"], int) and kernel["memory"] > 10 << 20
        assert isinstance(kernel["lastActivity"], float) and kernel["lastActivity"] > 0
    # shut down from the other window's listing
    await first.request("kernel/shutdown", {"kernelId": theirs["kernelId"]})
    dead = await second.wait_for_notification(
        "kernel/status", lambda n: n["kernelId"] == theirs["kernelId"] and n["state"] == "dead")
    assert dead["reason"]
    listed_after = (await first.request("kernel/list", {}))["kernels"]
    assert [k["kernelId"] for k in listed_after] == [mine["kernelId"]]


async def test_a_busy_host_of_another_version_stays_and_kernels_run_directly(
        hosted: Hosted, monkeypatch: pytest.MonkeyPatch) -> None:
    old, serving = await old_host(hosted, monkeypatch)
    # a cell running on the old host, started through it as an older bridge would
    connection = await HostConnection._connect_or_spawn(old.place, None)
    spec = spec_manager().get_kernel_spec("python3")
    life = HostLife(connection, "python3", start={
        "spec": spec.to_dict(), "resourceDir": spec.resource_dir, "transport": "ipc"})
    session = await KernelSession.start(life, None, lambda *args: None)
    running = asyncio.create_task(session.execute(
        "import time; time.sleep(30)", "busy", lambda op: None))
    try:
        await asyncio.sleep(0.5)
        bridge = await hosted.bridge()
        started = await bridge.request("kernel/start", {})
        assert "durable" not in started  # the bridge's own child
        warning = await bridge.wait_for_notification("window/showMessage")
        assert "0.0.1-old" in warning["message"] and "busy" in warning["message"]
        assert not serving.done()  # the old host and its busy kernel are left alone
    finally:
        running.cancel()
        await session.shutdown()
        await connection.close()
        old.finished.set()
        await serving
