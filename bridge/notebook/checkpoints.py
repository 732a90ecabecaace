"""Checkpoints like Jupyter's File -> Save and Checkpoint, in `.ipynb_checkpoints/`.

Jupyter's file layout: the checkpoint of `dir/NAME.ipynb` is
`dir/.ipynb_checkpoints/NAME-checkpoint.ipynb`, one per notebook, so checkpoints made
here show in Jupyter and the other way round. Restoring first keeps the replaced file as
the checkpoint `before-revert` (`NAME-before-revert.ipynb`), so reverting loses nothing.
"""

from __future__ import annotations

import asyncio
import datetime
from pathlib import Path
from typing import Any

from bridge.errors import BridgeError, ErrorCode, require
from bridge.notebook.files import path_param, read_text, write_atomically

CHECKPOINT_DIR = ".ipynb_checkpoints"
CHECKPOINT = "checkpoint"
BEFORE_REVERT = "before-revert"
CHECKPOINT_IDS = (CHECKPOINT, BEFORE_REVERT)


def checkpoint_path(notebook: Path, checkpoint_id: str = CHECKPOINT) -> Path:
    return notebook.parent / CHECKPOINT_DIR / f"{notebook.stem}-{checkpoint_id}{notebook.suffix}"


def create_checkpoint(notebook: Path) -> dict[str, Any]:
    """Copy the notebook file as saved into its checkpoint, replacing the previous one."""
    data = read_text(notebook).encode("utf-8")
    target = checkpoint_path(notebook)
    _make_directory(target.parent)
    write_atomically(target, data)
    return _model(CHECKPOINT, target)


def list_checkpoints(notebook: Path) -> list[dict[str, Any]]:
    """The notebook's checkpoints, newest first."""
    found = [_model(checkpoint_id, path) for checkpoint_id in CHECKPOINT_IDS
             if (path := checkpoint_path(notebook, checkpoint_id)).is_file()]
    return sorted(found, key=lambda model: str(model["lastModified"]), reverse=True)


def restore_checkpoint(notebook: Path, checkpoint_id: str = CHECKPOINT) -> dict[str, Any]:
    """Put the checkpoint back in place of the notebook file; keep the replaced file."""
    source = _existing(notebook, checkpoint_id)
    restored = read_text(source)
    result: dict[str, Any] = {"restored": _model(checkpoint_id, source), "content": restored}
    if notebook.is_file():
        current = notebook.read_bytes()
        if current != restored.encode("utf-8"):
            kept = checkpoint_path(notebook, BEFORE_REVERT)
            write_atomically(kept, current)
            result["kept"] = _model(BEFORE_REVERT, kept)
    write_atomically(notebook, restored.encode("utf-8"))
    return result


def delete_checkpoint(notebook: Path, checkpoint_id: str = CHECKPOINT) -> None:
    path = _existing(notebook, checkpoint_id)
    try:
        path.unlink()
    except OSError as exc:
        raise BridgeError(ErrorCode.FILE_ERROR, f"cannot delete {path}: {exc.strerror}") from None


async def checkpoint_request(params: Any) -> dict[str, Any]:
    """The `notebook/checkpoint` request: create, list, restore or delete."""
    notebook = path_param(params, "uri")
    action = require(params, "action", str)
    checkpoint_id = params.get("id", CHECKPOINT)
    if checkpoint_id not in CHECKPOINT_IDS:
        raise BridgeError(ErrorCode.INVALID_PARAMS,
                          f"checkpoint id must be one of {', '.join(CHECKPOINT_IDS)}, "
                          f"not {checkpoint_id!r}")
    if action == "create":
        return {"checkpoint": await asyncio.to_thread(create_checkpoint, notebook)}
    if action == "list":
        return {"checkpoints": await asyncio.to_thread(list_checkpoints, notebook)}
    if action == "restore":
        return await asyncio.to_thread(restore_checkpoint, notebook, checkpoint_id)
    if action == "delete":
        await asyncio.to_thread(delete_checkpoint, notebook, checkpoint_id)
        return {"checkpoints": await asyncio.to_thread(list_checkpoints, notebook)}
    raise BridgeError(ErrorCode.INVALID_PARAMS,
                      f"action must be create, list, restore or delete, not {action!r}")


def _existing(notebook: Path, checkpoint_id: str) -> Path:
    path = checkpoint_path(notebook, checkpoint_id)
    if not path.is_file():
        raise BridgeError(ErrorCode.NO_CHECKPOINT,
                          f"{notebook.name} has no checkpoint {checkpoint_id!r} ({path})")
    return path


def _make_directory(directory: Path) -> None:
    try:
        directory.mkdir(exist_ok=True)
    except OSError as exc:
        raise BridgeError(ErrorCode.FILE_ERROR,
                          f"cannot create {directory}: {exc.strerror}") from None


def _model(checkpoint_id: str, path: Path) -> dict[str, Any]:
    modified = datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.UTC)
    return {"id": checkpoint_id, "path": str(path),
            "lastModified": modified.isoformat(timespec="milliseconds").replace("+00:00", "Z")}
