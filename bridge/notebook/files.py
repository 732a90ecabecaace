"""Reading notebook files with clear errors, and writing files atomically."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

from pygls import uris

from bridge.errors import BridgeError, ErrorCode, require
from bridge.notebook.reading import read_notebook
from bridge.notebook.store import NotebookStore


def read_text(path: Path) -> str:
    """The text of a notebook file, or an error naming why it cannot be read."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BridgeError(ErrorCode.FILE_ERROR, f"no such file: {path}") from None
    except IsADirectoryError:
        raise BridgeError(ErrorCode.FILE_ERROR, f"{path} is a directory, not a notebook") from None
    except OSError as exc:
        raise BridgeError(ErrorCode.FILE_ERROR, f"cannot read {path}: {exc.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BridgeError(
            ErrorCode.NOT_A_NOTEBOOK,
            f"{path} is not a notebook: byte {exc.start} is not UTF-8 text",
        ) from None


def parse_notebook(text: str, store: NotebookStore, origin: Path | None = None,
                   lossless: bool = True) -> dict[str, Any]:
    """The notebook object for `text`; errors name `origin` when given.

    Without `lossless` the notebook is only checked (the layout record that lets
    writing it back change nothing else is skipped): enough for exporting.
    """
    try:
        notebook: dict[str, Any] = read_notebook(text, store, defer_check=not lossless
                                                 ).result["notebook"]
    except BridgeError as exc:
        if origin is None or str(origin) in exc.message:
            raise
        raise BridgeError(ErrorCode(exc.code), f"{origin}: {exc.message}", exc.data) from None
    return notebook


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` by `data` all at once: readers see the old file or the new, never half.

    The temporary file sits next to the target (same file system, so rename is atomic)
    and is removed if anything fails; an existing file keeps its permission bits, and a
    symbolic link stays one (its target is replaced).
    """
    if path.is_symlink():
        path = path.resolve()
    directory = path.parent
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".nbbridge-tmp", dir=directory)
    except OSError as exc:
        raise BridgeError(
            ErrorCode.FILE_ERROR, f"cannot write in {directory}: {exc.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise BridgeError(
                ErrorCode.FILE_ERROR, f"cannot write {path}: {exc.strerror}") from None
        raise


def check_writable(target: Path) -> None:
    """Fail early, naming the problem, when `target` could not be written."""
    folder = target.parent
    if not folder.is_dir():
        raise BridgeError(ErrorCode.FILE_ERROR, f"cannot write {target}: no folder {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        read_only = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
        why = "read-only file system" if read_only else "permission denied"
        raise BridgeError(ErrorCode.FILE_ERROR, f"cannot write in {folder}: {why}")


def path_param(params: Any, name: str = "uri") -> Path:
    """A `file:` URI parameter as a local path."""
    uri = require(params, name, str)
    path = uris.to_fs_path(uri) if uri.startswith("file:") else None
    if not path:
        raise BridgeError(ErrorCode.INVALID_PARAMS, f"parameter {name!r} must be a file: URI")
    return Path(path)


def _umask() -> int:
    # os.umask() can only be read by setting it, which races with other threads.
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022
