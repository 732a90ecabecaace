"""kernel/specs and `nbbridge kernels`: every kernelspec, JUPYTER_PATH honoured."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.kernels.specs import list_specs

from bridge_client import BridgeClient, RpcError


@pytest.fixture
def extra_kernels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A JUPYTER_PATH folder holding one more kernelspec (a second ipykernel)."""
    spec_dir = tmp_path / "kernels" / "second-python"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Second Python", "language": "python",
        "interrupt_mode": "message",
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    return tmp_path


async def test_specs_list_the_default_python(bridge: BridgeClient) -> None:
    result = await bridge.request("kernel/specs", {})
    assert result["default"] == "python3"
    python = next(s for s in result["specs"] if s["name"] == "python3")
    assert python["language"] == "python"
    assert python["displayName"]
    assert python["interruptMode"] == "signal"
    assert shutil.which(python["argv0"]) == python["argv0"]


async def test_jupyter_path_is_honoured_and_message_interrupts_work(
        extra_kernels: Path) -> None:
    client = await BridgeClient.start()  # inherits JUPYTER_PATH
    try:
        await client.initialize()
        specs = await client.request("kernel/specs", {})
        second = next(s for s in specs["specs"] if s["name"] == "second-python")
        assert second["displayName"] == "Second Python"
        assert second["interruptMode"] == "message"
        assert second["bridgeEnvironment"] is True
        started = await client.request("kernel/start", {"kernelName": "second-python"})
        assert started["specName"] == "second-python"
        running = asyncio.create_task(client.request("kernel/execute", {
            "kernelId": started["kernelId"], "executionId": "long",
            "code": "import time\nprint('go', flush=True)\ntime.sleep(60)"}))
        await client.wait_for_notification("kernel/output",
                                           lambda n: n["executionId"] == "long")
        await client.request("kernel/interrupt", {"kernelId": started["kernelId"]})
        assert (await asyncio.wait_for(running, 30))["status"] == "error"
    finally:
        await client.shutdown()


async def test_unknown_kernel_name_is_named(bridge: BridgeClient) -> None:
    with pytest.raises(RpcError) as error:
        await bridge.request("kernel/start", {"kernelName": "no-such-kernel"})
    assert error.value.code == -32012
    assert "no-such-kernel" in error.value.message and "python3" in error.value.message


async def test_cwd_that_is_not_a_folder_is_named(bridge: BridgeClient,
                                                 tmp_path: Path) -> None:
    with pytest.raises(RpcError) as error:
        await bridge.request("kernel/start", {"cwd": str(tmp_path / "missing")})
    assert error.value.code == -32012 and "missing" in error.value.message


def test_list_specs_in_process(extra_kernels: Path) -> None:
    names = [s["name"] for s in list_specs()["specs"]]
    assert "python3" in names and "second-python" in names


def test_nbbridge_kernels_prints_a_table(extra_kernels: Path) -> None:
    printed = subprocess.run([sys.executable, "-m", "bridge", "kernels"], check=True,
                             capture_output=True, text=True).stdout
    specs, environments = printed.split("\n\n", 1)
    header, *rows = specs.splitlines()
    assert header.split() == ["NAME", "LANGUAGE", "DISPLAY", "NAME", "TRANSPORT", "INTERRUPT",
                              "EXECUTABLE"]
    by_name = {row.lstrip("* ").split()[0]: row for row in rows}
    assert by_name["python3"].startswith("*")
    assert "Second Python" in by_name["second-python"]
    assert "message" in by_name["second-python"] and "ipc" in by_name["second-python"]
    # then the Python environments found, each with its interpreter
    title, columns, *found = environments.splitlines()
    assert title.startswith("Python environments")
    assert columns.split() == ["GROUP", "KIND", "VERSION", "IPYKERNEL", "PYTHON"]
    assert found and all(Path(row.split()[-1]).is_absolute() for row in found)


async def test_a_kernel_that_exits_at_start_is_reported(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    spec_dir = tmp_path / "kernels" / "broken"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-c", "import sys; sys.exit(3)", "{connection_file}"],
        "display_name": "Broken", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    client = await BridgeClient.start()
    try:
        await client.initialize()
        with pytest.raises(RpcError) as error:
            await client.request("kernel/start", {"kernelName": "broken"})
        assert error.value.code == -32012
        assert error.value.message == \
            "kernel 'broken' exited during start: the kernel died (exit code 3)"
        assert (await client.request("kernel/specs", {}))["default"] == "python3"
    finally:
        await client.shutdown()


async def test_listing_does_not_wait_for_a_starting_kernel(bridge: BridgeClient) -> None:
    order: list[str] = []

    async def ask(method: str) -> None:
        await bridge.request(method, {})
        order.append(method)

    await asyncio.gather(ask("kernel/start"), ask("kernel/specs"))
    assert order == ["kernel/specs", "kernel/start"]
