"""`notebook/checkpoint` through the real client: Jupyter's layout, restore loses nothing."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from jupyter_server.services.contents.filemanager import FileContentsManager
from nbformat.v4 import new_code_cell, new_notebook
from pygls import uris

from bridge_client import BridgeClient, RpcError


def saved_notebook(path: Path, source: str) -> bytes:
    nbformat.write(new_notebook(cells=[new_code_cell(source)]), path)
    return path.read_bytes()


async def checkpoint(bridge: BridgeClient, path: Path, action: str, **more: str) -> dict:
    return await bridge.request(  # type: ignore[no-any-return]
        "notebook/checkpoint", {"uri": uris.from_fs_path(str(path)), "action": action, **more})


async def test_create_restore_round_trip(bridge: BridgeClient, tmp_path: Path) -> None:
    notebook = tmp_path / "analysis.ipynb"
    saved = saved_notebook(notebook, "x = 1")
    assert (await checkpoint(bridge, notebook, "list")) == {"checkpoints": []}

    created = (await checkpoint(bridge, notebook, "create"))["checkpoint"]
    stored = tmp_path / ".ipynb_checkpoints" / "analysis-checkpoint.ipynb"
    assert created["id"] == "checkpoint" and created["path"] == str(stored)
    assert created["lastModified"].endswith("Z")
    assert stored.read_bytes() == saved

    edited = saved_notebook(notebook, "x = 2  # edited after the checkpoint")
    restored = await checkpoint(bridge, notebook, "restore")
    assert notebook.read_bytes() == saved
    assert restored["content"] == saved.decode()
    assert restored["restored"]["id"] == "checkpoint"
    # the replaced file is kept as a checkpoint of its own, so reverting loses nothing
    kept = tmp_path / ".ipynb_checkpoints" / "analysis-before-revert.ipynb"
    assert restored["kept"]["path"] == str(kept)
    assert kept.read_bytes() == edited
    listed = (await checkpoint(bridge, notebook, "list"))["checkpoints"]
    assert sorted(c["id"] for c in listed) == ["before-revert", "checkpoint"]

    # and the revert itself can be undone
    await checkpoint(bridge, notebook, "restore", id="before-revert")
    assert notebook.read_bytes() == edited

    after_delete = await checkpoint(bridge, notebook, "delete", id="before-revert")
    assert [c["id"] for c in after_delete["checkpoints"]] == ["checkpoint"]


async def test_jupyter_sees_our_checkpoint_and_we_see_jupyters(
        bridge: BridgeClient, tmp_path: Path) -> None:
    contents = FileContentsManager(root_dir=str(tmp_path))
    ours = tmp_path / "ours.ipynb"
    saved_notebook(ours, "print('ours')")
    await checkpoint(bridge, ours, "create")
    assert [c["id"] for c in contents.list_checkpoints("ours.ipynb")] == ["checkpoint"]

    theirs = tmp_path / "theirs.ipynb"
    original = saved_notebook(theirs, "print('theirs')")
    contents.create_checkpoint("theirs.ipynb")
    saved_notebook(theirs, "print('changed')")
    await checkpoint(bridge, theirs, "restore")
    assert theirs.read_bytes() == original


async def test_checkpoint_errors_name_the_problem(bridge: BridgeClient, tmp_path: Path) -> None:
    notebook = tmp_path / "nb.ipynb"
    saved_notebook(notebook, "1")
    with pytest.raises(RpcError) as none_yet:
        await checkpoint(bridge, notebook, "restore")
    assert none_yet.value.code == -32022 and "no checkpoint" in none_yet.value.message
    with pytest.raises(RpcError) as missing:
        await checkpoint(bridge, tmp_path / "absent.ipynb", "create")
    assert missing.value.code == -32020 and "no such file" in missing.value.message
    with pytest.raises(RpcError) as action:
        await checkpoint(bridge, notebook, "snapshot")
    assert action.value.code == -32602 and "'snapshot'" in action.value.message
    with pytest.raises(RpcError) as unknown_id:
        await checkpoint(bridge, notebook, "restore", id="../../etc/passwd")
    assert unknown_id.value.code == -32602
    with pytest.raises(RpcError) as not_file:
        await bridge.request("notebook/checkpoint",
                             {"uri": "untitled:Untitled-1.ipynb", "action": "create"})
    assert not_file.value.code == -32602 and "file: URI" in not_file.value.message
    assert not (tmp_path / ".ipynb_checkpoints").exists() or not any(
        (tmp_path / ".ipynb_checkpoints").iterdir())
