"""A bridge installed without its `export` extra installs nbconvert the first time it
exports, and exports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[2]
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)


def test_the_first_export_installs_nbconvert(tmp_path: Path) -> None:
    env = tmp_path / "env"
    subprocess.run([BASE_PYTHON, "-m", "venv", str(env)], check=True)
    python = str(env / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    str(ROOT)], check=True)
    has_nbconvert = [python, "-c", "import importlib.util, sys; "
                     "sys.exit(importlib.util.find_spec('nbconvert') is None)"]
    assert subprocess.run(has_nbconvert, check=False).returncode == 1  # lean: not there
    notebook = tmp_path / "note.ipynb"
    nbformat.write(new_notebook(cells=[new_markdown_cell("# Exported here")]), notebook)
    done = subprocess.run([python, "-m", "bridge", "export", str(notebook), "--to", "html"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "export needs nbconvert" in done.stderr
    assert "Exported here" in (tmp_path / "note.html").read_text()
    assert subprocess.run(has_nbconvert, check=False).returncode == 0
