"""`nbbridge run --server`: a notebook run on a server's kernel, written here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat

from remote_servers import RunningServer


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bridge", "run", *args],
                          capture_output=True, text=True, timeout=180)


def notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import os\nprint('pid', os.getpid() > 0)"),
        nbformat.v4.new_code_cell("21 * 2"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


def test_a_notebook_runs_on_the_servers_kernel(jupyter_server: RunningServer,
                                               tmp_path: Path) -> None:
    source = notebook(tmp_path / "remote.ipynb")
    before = {k["id"] for k in jupyter_server.api("api/kernels")}  # type: ignore[union-attr]
    done = run_cli(str(source), "--server", jupyter_server.url, "--token",
                   jupyter_server.token)
    assert done.returncode == 0, done.stderr
    ran = nbformat.read(source, as_version=4)
    assert ran.cells[0].outputs[0]["text"] == "pid True\n"
    assert ran.cells[1].outputs[0]["data"]["text/plain"] == "42"
    assert [c.execution_count for c in ran.cells] == [1, 2]
    # its kernel was shut down on the server when the run ended
    after = {k["id"] for k in jupyter_server.api("api/kernels")}  # type: ignore[union-attr]
    assert after == before
    assert jupyter_server.token not in done.stderr + done.stdout


def test_a_refused_token_is_a_kernel_start_failure(jupyter_server: RunningServer,
                                                   tmp_path: Path) -> None:
    source = notebook(tmp_path / "refused.ipynb")
    text = source.read_text()
    done = run_cli(str(source), "--server", jupyter_server.url, "--token", "wrong")
    assert done.returncode == 4
    assert "refused (403)" in done.stderr
    assert source.read_text() == text
