"""Each kernel gets the transport it takes, a failed start says what the kernel said, and
no kernel outlives a bridge killed with SIGKILL, whether or not it watches its parent."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import sys
from pathlib import Path
from typing import Any

import psutil
import pytest

from bridge_client import BridgeClient, RpcError
from conftest import kernel_env, require_kernel
from kernel_helpers import pid_alive, run, wait_until


def add_spec(root: Path, name: str, spec: dict[str, Any]) -> None:
    folder = root / "kernels" / name
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(json.dumps(spec))


async def bridge_seeing(folder: Path) -> BridgeClient:
    """A bridge with the test kernels and the kernelspecs under ``folder``."""
    env = kernel_env()
    env["JUPYTER_PATH"] = os.pathsep.join([str(folder), env["JUPYTER_PATH"]])
    client = await BridgeClient.start(env=env)
    await client.initialize()
    return client


PYTHON_KERNEL = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]


async def test_a_kernelspec_asks_for_tcp_and_gets_curvezmq(tmp_path: Path) -> None:
    add_spec(tmp_path, "py-tcp", {
        "argv": PYTHON_KERNEL, "display_name": "Python on TCP", "language": "python",
        "metadata": {"nbbridge": {"transport": "tcp"}, "supported_encryption": ["curve"]}})
    client = await bridge_seeing(tmp_path)
    try:
        started = await client.request("kernel/start", {"kernelName": "py-tcp"})
        assert started["transport"] == "tcp"
        connection_file = Path(started["connectionFile"])
        info, mode = await asyncio.to_thread(
            lambda: (json.loads(connection_file.read_text()), connection_file.stat().st_mode))
        assert info["transport"] == "tcp" and info["ip"] == "127.0.0.1"
        assert stat.S_IMODE(mode) == 0o600
        assert info["key"]
        # the channels are encrypted: the connection file holds the kernel's curve key pair
        assert any("curve" in key for key in info), sorted(info)
        cell = await run(client, started["kernelId"], "6 * 7")
        assert cell.outputs[0]["data"]["text/plain"] == "42"
    finally:
        await client.shutdown()


async def test_a_kernel_that_refuses_ipc_is_started_on_tcp_and_remembered(
        tmp_path: Path) -> None:
    deno = require_kernel("deno")
    # Deno behind `env`: no name the bridge knows, so it is tried on IPC first
    add_spec(tmp_path, "deno-unknown", {**deno, "argv": ["/usr/bin/env", *deno["argv"]],
                                        "display_name": "Deno (unknown)"})
    client = await bridge_seeing(tmp_path)
    try:
        specs = await client.request("kernel/specs", {})
        assert {s["name"]: s["transport"] for s in specs["specs"]}["deno-unknown"] == "ipc"
        started = await client.request("kernel/start", {"kernelName": "deno-unknown"})
        assert started["transport"] == "tcp"
        assert (await run(client, started["kernelId"], "6 * 7")).status == "ok"
        specs = await client.request("kernel/specs", {})
        assert {s["name"]: s["transport"] for s in specs["specs"]}["deno-unknown"] == "tcp"
        again = await client.request("kernel/start", {"kernelName": "deno-unknown"})
        assert again["transport"] == "tcp"
    finally:
        await client.shutdown()


async def test_a_start_failure_shows_what_the_kernel_said(tmp_path: Path) -> None:
    add_spec(tmp_path, "broken", {
        "argv": [sys.executable, "-c",
                 "import sys; print('licence server unreachable', file=sys.stderr); "
                 "sys.exit(3)", "{connection_file}"],
        "display_name": "Broken", "language": "python",
        "metadata": {"nbbridge": {"transport": "tcp"}}})
    client = await bridge_seeing(tmp_path)
    try:
        with pytest.raises(RpcError) as failure:
            await client.request("kernel/start", {"kernelName": "broken"})
        assert "exit code 3" in failure.value.message
        assert "licence server unreachable" in failure.value.message
    finally:
        await client.shutdown()


def group(pgid: int) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid:
                found.append(process)
        except (OSError, psutil.Error):
            continue
    return found


@pytest.mark.parametrize("name", ["ir", "deno"])
async def test_no_kernel_outlives_a_killed_bridge(name: str) -> None:
    require_kernel(name)
    client = await BridgeClient.start(env=kernel_env())
    await client.initialize()
    started = await client.request("kernel/start", {"kernelName": name})
    # a child of the kernel, in the kernel's process group
    spawn = ('system("sleep 300", wait = FALSE)' if name == "ir" else
             'new Deno.Command("sleep", { args: ["300"] }).spawn(); "spawned"')
    assert (await run(client, started["kernelId"], spawn)).status == "ok"
    kernel_pid = started["pid"]
    # the child may have left the kernel's tree (R's shell exits), not its process group
    await wait_until(lambda: any(p.name() == "sleep" for p in group(kernel_pid)))
    family = [p.pid for p in group(kernel_pid)]
    assert kernel_pid in family
    os.kill(client.process.pid, signal.SIGKILL)
    await client.process.wait()
    # generous deadline, no speed claim
    await wait_until(lambda: not any(pid_alive(pid) for pid in family), timeout=60)
