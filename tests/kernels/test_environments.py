"""Python environments made here (a venv, a uv venv, pyenv's versions) are listed as kernels
and start with their own Python; ipykernel is installed into one that lacks it."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from pygls import uris

from bridge_client import BridgeClient, RpcError
from kernel_helpers import run
from language.helpers import Notebook, complete_until, item, labels

pytestmark = pytest.mark.asyncio(loop_scope="module")

BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)


def make_venv(folder: Path, *options: str) -> Path:
    subprocess.run([BASE_PYTHON, "-m", "venv", *options, str(folder)], check=True)
    return folder / "bin" / "python"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("workspace")
    make_venv(root / ".venv")
    return root


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env_bridge(workspace: Path, tmp_path_factory: pytest.TempPathFactory
                     ) -> AsyncIterator[BridgeClient]:
    cache = tmp_path_factory.mktemp("cache")
    client = await BridgeClient.start(env={"XDG_CACHE_HOME": str(cache)})
    await client.request("initialize", {"processId": os.getpid(),
                                        "rootUri": uris.from_fs_path(str(workspace)),
                                        "capabilities": {}})
    client.notify("initialized", {})
    yield client
    await client.shutdown()


async def environments(client: BridgeClient) -> dict[str, dict[str, Any]]:
    """Every environment by its interpreter, once the late ones (if any) are known."""
    for _ in range(40):
        before = len(client.notifications["kernel/environmentsChanged"])
        listed = await client.request("kernel/environments", {})
        await asyncio.sleep(0.3)
        if len(client.notifications["kernel/environmentsChanged"]) == before:
            return {e["python"]: e for e in listed["environments"]}
    raise AssertionError("the environments never settled")


async def test_the_workspace_venv_is_listed_first_without_ipykernel(
        env_bridge: BridgeClient, workspace: Path) -> None:
    found = await environments(env_bridge)
    venv = found[str(workspace / ".venv" / "bin" / "python")]
    assert venv["group"] == "workspace" and venv["kind"] == "venv"
    assert venv["prefix"] == str(workspace / ".venv")
    assert venv["version"] == ".".join(map(str, sys.version_info[:3]))
    assert venv["ipykernel"] is False
    assert next(iter(found.values())) is venv
    with pytest.raises(RpcError) as missing:
        await env_bridge.request("kernel/start", {"environment": venv["python"]})
    assert missing.value.data == {"ipykernelMissing": True}
    assert "ipykernel is not installed in" in missing.value.message


async def test_installing_ipykernel_then_the_kernel_runs_in_that_venv(
        env_bridge: BridgeClient, workspace: Path) -> None:
    python = str(workspace / ".venv" / "bin" / "python")
    installed = await env_bridge.request("kernel/installIpykernel", {"environment": python},
                                         timeout=600)
    assert installed["ipykernel"] is True
    assert any("ipykernel" in note["message"]
               for note in env_bridge.notifications["window/logMessage"])
    kernel = await env_bridge.request("kernel/start", {"environment": python})
    cell = await run(env_bridge, kernel["kernelId"],
                     "import sys, shutil\nprint(sys.prefix)\nprint(shutil.which('pip'))")
    prefix, pip = cell.text().split()
    assert prefix == str(workspace / ".venv")
    assert pip == str(workspace / ".venv" / "bin" / "pip")  # its own tools first on PATH
    assert (await environments(env_bridge))[python]["ipykernel"] is True
    await env_bridge.request("kernel/shutdown", {"kernelId": kernel["kernelId"]})


async def test_jedi_completes_against_the_kernels_environment(
        env_bridge: BridgeClient, workspace: Path) -> None:
    """A module only the venv has: offered by jedi (the kernel has not imported it, and
    its completer answers from the runtime only) once the notebook's kernel is the venv's."""
    python = str(workspace / ".venv" / "bin" / "python")
    site = next((workspace / ".venv" / "lib").glob("python3*/site-packages"))
    (site / "only_in_this_venv.py").write_text("def venv_function_here():\n    pass\n")
    notebook = Notebook(env_bridge, workspace / "uses-venv.ipynb",
                        ["import only_in_this_venv\nonly_in_this_venv.venv_f"])
    before = await notebook.complete_at_end(0)
    assert "venv_function_here" not in labels(before)  # the bridge's own environment
    kernel = await env_bridge.request("kernel/start", {"environment": python,
                                                       "notebookUri": notebook.uri})
    found = await complete_until(notebook, 0, "venv_function_here", source="jedi")
    assert "jedi" in item(found, "venv_function_here")["data"]["sources"]
    await env_bridge.request("kernel/shutdown", {"kernelId": kernel["kernelId"]})


async def test_a_venv_made_meanwhile_appears(env_bridge: BridgeClient,
                                             workspace: Path) -> None:
    python = str(await asyncio.to_thread(make_venv, workspace / "env"))
    assert python in await environments(env_bridge)


async def test_a_uv_venv_is_a_uv_environment(env_bridge: BridgeClient,
                                             workspace: Path) -> None:
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    await asyncio.to_thread(subprocess.run, [uv, "venv", "--python", BASE_PYTHON,
                                             str(workspace / "venv")], check=True)
    found = await environments(env_bridge)
    assert found[str(workspace / "venv" / "bin" / "python")]["kind"] == "uv"


async def test_pyenv_versions_and_path_interpreters_are_global(
        env_bridge: BridgeClient) -> None:
    found = await environments(env_bridge)
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    versions = sorted(p for p in pyenv.glob("3.*") if (p / "bin" / "python").exists())
    if not versions:
        pytest.skip("no pyenv versions on this machine")
    for version in versions:
        entry = found[str(version / "bin" / "python")]
        assert entry["kind"] == "pyenv" and entry["group"] == "global"
        assert entry["version"] == version.name
    on_path = [e for e in found.values() if e["kind"] == "path"]
    assert on_path and all(e["group"] == "global" for e in on_path)


async def test_an_environment_without_pip_gets_a_clear_error(
        env_bridge: BridgeClient, tmp_path: Path) -> None:
    python = str(await asyncio.to_thread(make_venv, tmp_path / "bare", "--without-pip"))
    with pytest.raises(RpcError) as failure:
        await env_bridge.request("kernel/installIpykernel", {"environment": python})
    assert "that environment has no pip" in failure.value.message
    assert str(tmp_path / "bare") in failure.value.message
    with pytest.raises(RpcError) as nothing:
        await env_bridge.request("kernel/start", {"environment": str(tmp_path / "nope")})
    assert "no Python interpreter at" in nothing.value.message
