"""What the `nbbridge run` tests share: running the real command, reading what it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_notebook

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def write_notebook(path: Path, *cells: Any,
                   kernelspec: dict[str, str] | None = None) -> bytes:
    metadata = {"kernelspec": kernelspec or KERNELSPEC}
    nbformat.write(new_notebook(cells=list(cells), metadata=metadata), path)
    return path.read_bytes()


def nbbridge(*args: str | Path, cwd: Path | None = None,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real command line, in a process of its own; `env` adds to this one's."""
    return subprocess.run([sys.executable, "-m", "bridge", *map(str, args)], cwd=cwd,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=240, check=False)


def cells_of(path: Path) -> list[dict[str, Any]]:
    cells: list[dict[str, Any]] = json.loads(path.read_text())["cells"]
    return cells


def text_of(cell: dict[str, Any]) -> str:
    parts = []
    for output in cell["outputs"]:
        text = output.get("text") or output.get("data", {}).get("text/plain", "")
        parts.append("".join(text) if isinstance(text, list) else text)
    return "".join(parts)


def assert_one_line_error(stderr: str, *expected: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "no error message"
    assert lines[-1].startswith("nbbridge "), stderr
    assert "Traceback" not in stderr, stderr
    for text in expected:
        assert text in lines[-1], stderr


def write_bare(path: Path, *cells: Any) -> None:
    """A notebook whose metadata names no kernel and no language."""
    nbformat.write(new_notebook(cells=list(cells)), path)
