"""`nbbridge run` on several notebooks at once, tagged cells, and what each exit code says."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_output
from run_helpers import (
    assert_one_line_error,
    cells_of,
    nbbridge,
    text_of,
    write_bare,
    write_notebook,
)


def meeting_cell(mine: Path, theirs: Path) -> str:
    """Code that says it is here and waits for the other notebook to say so too: both
    finish only if they run at the same time (the deadline only ends a broken run)."""
    return (f"import os, pathlib, time\npathlib.Path({str(mine)!r}).touch()\n"
            "deadline = time.monotonic() + 120\n"
            f"while not pathlib.Path({str(theirs)!r}).exists():\n"
            "    assert time.monotonic() < deadline, 'the other notebook never ran'\n"
            "    time.sleep(0.05)\n"
            "print(os.getpid())")


def test_jobs_run_notebooks_at_once_each_on_its_own_kernel(tmp_path: Path) -> None:
    first, second = tmp_path / "first.ipynb", tmp_path / "second.ipynb"
    here_a, here_b = tmp_path / "a-here", tmp_path / "b-here"
    write_notebook(first, new_code_cell("print('first')"), new_code_cell(
        meeting_cell(here_a, here_b)))
    write_notebook(second, new_code_cell(meeting_cell(here_b, here_a)))
    done = nbbridge("run", first, second, "--jobs", "2")
    assert done.returncode == 0, done.stderr
    pid_a = int(text_of(cells_of(first)[1]))
    pid_b = int(text_of(cells_of(second)[0]))
    assert pid_a != pid_b
    lines = done.stderr.splitlines()
    # progress and results name their notebook
    assert any(line.startswith(f"{first}: [1/2]") and line.endswith("cell 1: print('first')")
               for line in lines)
    assert any(line.startswith(f"{second}: [1/1]") for line in lines)
    assert f"nbbridge run: {first}: ran 2 cells" in done.stderr
    assert f"wrote {second}" in done.stderr
    assert lines[-1] == "nbbridge run: 2 notebooks, 2 ok, 0 failed (exit status 0)"


def test_the_exit_status_is_the_worst_and_every_notebook_is_written(tmp_path: Path) -> None:
    good, bad, hangs = tmp_path / "good.ipynb", tmp_path / "bad.ipynb", tmp_path / "hangs.ipynb"
    write_notebook(good, new_code_cell("print('fine')"))
    write_notebook(bad, new_code_cell("raise ValueError('no')"), new_code_cell("print(1)"))
    write_notebook(hangs, new_code_cell("import time\ntime.sleep(600)"))
    done = nbbridge("run", good, bad, hangs, "--jobs", "2", "--timeout", "3")
    assert done.returncode == 3, done.stderr  # timeout (3) is worse than a failure (1)
    assert text_of(cells_of(good)[0]) == "fine\n"
    assert cells_of(bad)[0]["outputs"][-1]["ename"] == "ValueError"
    assert cells_of(hangs)[0]["outputs"][-1]["ename"] == "CellTimeoutError"
    assert f"nbbridge run: error: {bad}: failed in cell 1" in done.stderr
    assert done.stderr.splitlines()[-1] == (
        "nbbridge run: 3 notebooks, 1 ok, 2 failed (exit status 3)")


def test_logged_outputs_of_several_notebooks_name_theirs(tmp_path: Path) -> None:
    first, second = tmp_path / "a.ipynb", tmp_path / "b.ipynb"
    write_notebook(first, new_code_cell("print('from a', end='')\nprint('!')\n7"))
    write_notebook(second, new_code_cell("print('from b')"))
    done = nbbridge("run", first, second, "-j", "2", "--log-output")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert f"{first}| from a!" in lines and f"{first}| 7" in lines
    assert f"{second}| from b" in lines


def test_output_is_for_one_notebook_only(tmp_path: Path) -> None:
    first, second = tmp_path / "a.ipynb", tmp_path / "b.ipynb"
    write_notebook(first, new_code_cell("1"))
    write_notebook(second, new_code_cell("1"))
    before = {p: p.read_bytes() for p in (first, second)}
    done = nbbridge("run", first, second, "-o", tmp_path / "out.ipynb")
    assert done.returncode == 2
    assert_one_line_error(done.stderr, "-o names one output, for one notebook")
    again = nbbridge("run", first, tmp_path / "." / "a.ipynb")
    assert again.returncode == 2
    assert_one_line_error(again.stderr, "is given twice")
    assert {p: p.read_bytes() for p in (first, second)} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.ipynb", "b.ipynb"]


def test_a_kernel_that_cannot_start_exits_4_and_writes_nothing(tmp_path: Path) -> None:
    kernels = tmp_path / "jupyter" / "kernels" / "broken"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-c", "import sys; sys.exit(3)", "{connection_file}"],
        "display_name": "Broken", "language": "python"}))
    source = tmp_path / "nb.ipynb"
    original = write_notebook(source, new_code_cell("print(1)"))
    done = nbbridge("run", source, "--kernel", "broken",
                    env={"JUPYTER_PATH": str(tmp_path / "jupyter")})
    assert done.returncode == 4, done.stderr
    assert_one_line_error(done.stderr, "broken")
    assert "wrote" not in done.stderr
    assert source.read_bytes() == original


def test_skip_execution_keeps_the_cell_and_raises_exception_is_expected(
        tmp_path: Path) -> None:
    source = tmp_path / "tags.ipynb"
    skipped = new_code_cell("print('not run')", metadata={"tags": ["skip-execution"]},
                            execution_count=4, outputs=[new_output("stream", text="old\n")])
    write_notebook(
        source,
        new_code_cell("raise ValueError('expected')", metadata={"tags": ["raises-exception"]}),
        skipped,
        # a cell tagged raises-exception that does not raise is fine too
        new_code_cell("print('no error')", metadata={"tags": ["raises-exception"]}),
        new_code_cell("raise KeyError('unexpected')"),
        new_code_cell("print('never')"),
    )
    done = nbbridge("run", source)
    assert done.returncode == 1
    assert_one_line_error(done.stderr, "failed in cell 4", "KeyError: 'unexpected'")
    cells = cells_of(source)
    assert cells[0]["outputs"][-1]["ename"] == "ValueError"
    # a skipped cell is left as it was, as nbclient leaves it
    assert text_of(cells[1]) == "old\n" and cells[1]["execution_count"] == 4
    assert text_of(cells[2]) == "no error\n"
    assert cells[4]["outputs"] == []


def test_parameters_follow_the_kernel_not_the_notebooks_metadata(tmp_path: Path) -> None:
    """A notebook saved from Python and run on another kernel gets that kernel's code."""
    source = tmp_path / "bare.ipynb"
    write_bare(source, new_code_cell("print(type(n).__name__, n)"))
    done = nbbridge("run", source, "-p", "n", "3")
    assert done.returncode == 0, done.stderr
    cells = cells_of(source)
    assert "".join(cells[0]["source"]) == "# Parameters\nn = 3\n"
    assert text_of(cells[1]) == "int 3\n"


def test_ctrl_c_stops_every_notebook_under_way(tmp_path: Path) -> None:
    first, second = tmp_path / "a.ipynb", tmp_path / "b.ipynb"
    here_a, here_b = tmp_path / "a-here", tmp_path / "b-here"
    for source, marker in ((first, here_a), (second, here_b)):
        write_notebook(source, new_code_cell(
            f"import pathlib, time\npathlib.Path({str(marker)!r}).touch()\ntime.sleep(600)"),
            new_code_cell("print('never')"))
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge", "run", str(first), str(second), "-j", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while not (here_a.exists() and here_b.exists()):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the notebooks never started"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    for source in (first, second):
        cells = cells_of(source)
        assert cells[0]["outputs"][-1]["ename"] == "KeyboardInterrupt"
        assert cells[1]["outputs"] == []
        assert f"{source}: interrupted in cell 1" in stderr


@pytest.mark.parametrize("option", ["--timeout", "--jobs", "--cwd", "--log-output", "-f"])
def test_help_documents_every_option_and_the_exit_codes(option: str) -> None:
    done = nbbridge("run", "--help")
    assert done.returncode == 0
    assert option in done.stdout
    for code in ("0 ", "1 ", "2 ", "3 ", "4 ", "130 "):
        assert f"\n  {code}" in done.stdout
