"""A full disk or a read-only folder when saving: a clear error, the original intact,
nothing half-written left behind. Uses a real tmpfs (needs root to mount)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from bridge_client import BridgeClient, RpcError

IS_ROOT = os.geteuid() == 0
if not IS_ROOT and os.environ.get("CI") != "true":
    pytest.skip("mounting a small tmpfs needs root", allow_module_level=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs, unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                   check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def make_read_only(mount: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)


def notebook_printing(path: Path, characters: int) -> bytes:
    nb = new_notebook(cells=[new_code_cell(f"print('x' * {characters})")],
                      metadata={"kernelspec": {"name": "python3", "language": "python",
                                               "display_name": "Python 3"}})
    nbformat.write(nb, path)
    return path.read_bytes()


def nbbridge(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bridge", *map(str, args)],
                          capture_output=True, text=True, timeout=240, check=False)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "no error message"
    return lines[-1]


def test_run_inplace_on_a_full_disk_keeps_the_original(small_disk: Path) -> None:
    notebook = small_disk / "big-output.ipynb"
    original = notebook_printing(notebook, 400_000)  # the outputs cannot fit in 256 KiB
    result = nbbridge("run", notebook, "--inplace")
    message = one_line_error(result)
    assert "space" in message.lower(), message
    assert notebook.read_bytes() == original
    assert [p.name for p in small_disk.iterdir()] == ["big-output.ipynb"]


def test_run_inplace_in_a_read_only_folder_keeps_the_original(small_disk: Path) -> None:
    notebook = small_disk / "small.ipynb"
    original = notebook_printing(notebook, 10)
    make_read_only(small_disk)
    message = one_line_error(nbbridge("run", notebook, "--inplace"))
    assert "read-only" in message.lower(), message
    assert notebook.read_bytes() == original


async def test_checkpoint_and_export_on_a_read_only_folder_are_clear_errors(
    small_disk: Path, bridge: BridgeClient,
) -> None:
    notebook = small_disk / "nb.ipynb"
    original = notebook_printing(notebook, 10)
    make_read_only(small_disk)
    with pytest.raises(RpcError) as checkpoint:
        await bridge.request("notebook/checkpoint",
                             {"uri": notebook.as_uri(), "action": "create"})
    assert "read-only" in checkpoint.value.message.lower(), checkpoint.value.message
    with pytest.raises(RpcError) as export:
        await bridge.request("notebook/export", {
            "uri": notebook.as_uri(), "format": "html",
            "outputUri": (small_disk / "nb.html").as_uri()})
    assert export.value.code == -32020, export.value.message
    assert "read-only" in export.value.message.lower(), export.value.message
    assert await asyncio.to_thread(notebook.read_bytes) == original
    assert os.listdir(small_disk) == ["nb.ipynb"]
