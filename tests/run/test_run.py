"""`nbbridge run` end to end: the real command, a real ipykernel, the file it writes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from run_helpers import assert_one_line_error, cells_of, nbbridge, text_of, write_notebook


def no_leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if "nbbridge-tmp" in p.name]


@pytest.fixture
def plot_and_error(tmp_path: Path) -> tuple[Path, bytes]:
    """Markdown, a print, a matplotlib plot, an error, then a cell with stale output."""
    stale = new_code_cell("print('after the error')", execution_count=9,
                          outputs=[nbformat.v4.new_output("stream", text="stale\n")])
    path = tmp_path / "plot.ipynb"
    original = write_notebook(
        path,
        new_markdown_cell("# A plot and an error"),
        new_code_cell("print('hello', 6 * 7)"),
        new_code_cell("import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()"),
        new_code_cell("1 / 0"),
        stale,
    )
    return path, original


def test_error_stops_the_run_names_the_cell_and_saves_what_ran(
        plot_and_error: tuple[Path, bytes], tmp_path: Path) -> None:
    source, original = plot_and_error
    out = tmp_path / "out.ipynb"
    done = nbbridge("run", source, "-o", out)
    assert done.returncode == 1
    assert_one_line_error(done.stderr, "cell 4", "ZeroDivisionError: division by zero")
    assert source.read_bytes() == original
    cells = cells_of(out)
    assert text_of(cells[1]) == "hello 42\n"
    assert cells[1]["outputs"][0]["text"] == ["hello 42\n"]  # lines, as Jupyter saves them
    assert cells[1]["execution_count"] == 1
    assert "image/png" in cells[2]["outputs"][-1]["data"]
    assert cells[3]["outputs"][-1]["ename"] == "ZeroDivisionError"
    # the cell after the error did not run: its old output must not pass for this run's
    assert cells[4]["outputs"] == [] and cells[4]["execution_count"] is None
    assert no_leftovers(tmp_path) == []


def test_allow_errors_runs_everything_and_changes_only_what_it_must(
        plot_and_error: tuple[Path, bytes]) -> None:
    source, original = plot_and_error
    done = nbbridge("run", source, "--inplace", "--allow-errors")
    assert done.returncode == 0, done.stderr
    assert "ZeroDivisionError" in done.stderr  # reported, not fatal
    before, after = json.loads(original), json.loads(source.read_text())
    assert [c["execution_count"] for c in after["cells"][1:]] == [1, 2, 3, 4]
    assert text_of(after["cells"][4]) == "after the error\n"
    for cell in after["cells"][1:]:
        timing = cell["metadata"]["execution"]
        assert timing["iopub.status.busy"] <= timing["shell.execute_reply"]
    # sources, ids, markdown and notebook metadata are untouched
    assert after["cells"][0] == before["cells"][0]
    assert [c["source"] for c in after["cells"]] == [c["source"] for c in before["cells"]]
    assert [c["id"] for c in after["cells"]] == [c["id"] for c in before["cells"]]
    assert after["metadata"] == before["metadata"]
    # progress went to stderr as plain lines (not a terminal), one per cell
    assert "[4/4]" in done.stderr and "cell 5: print('after the error')" in done.stderr


def test_tagged_cells_skip_or_expect_an_error(tmp_path: Path) -> None:
    source = tmp_path / "tags.ipynb"
    write_notebook(
        source,
        new_code_cell("raise ValueError('expected')", metadata={"tags": ["raises-exception"]}),
        new_code_cell("print('not run')", metadata={"tags": ["skip-execution"]}),
        new_code_cell("print('runs')"),
    )
    done = nbbridge("run", source)
    assert done.returncode == 0, done.stderr
    cells = cells_of(source)
    assert cells[0]["outputs"][-1]["ename"] == "ValueError"
    assert cells[1]["outputs"] == [] and cells[1]["execution_count"] is None
    assert text_of(cells[2]) == "runs\n" and cells[2]["execution_count"] == 2


def test_parameters_are_injected_after_the_parameters_cell(tmp_path: Path) -> None:
    source = tmp_path / "params.ipynb"
    write_notebook(
        source,
        new_code_cell("alpha = 1\nname = 'default'", metadata={"tags": ["parameters"]}),
        new_code_cell("print(repr(alpha), repr(name), repr(ratio), repr(flag))"),
    )
    out = tmp_path / "out.ipynb"
    done = nbbridge("run", source, "-o", out, "-p", "alpha", "5", "-p", "name", "it's",
                    "-p", "ratio", "0.5", "-p", "flag", "True")
    assert done.returncode == 0, done.stderr
    cells = cells_of(out)
    assert cells[1]["metadata"]["tags"] == ["injected-parameters"]
    assert "".join(cells[1]["source"]).startswith("# Parameters\n")
    assert text_of(cells[2]) == "5 \"it's\" 0.5 True\n"
    # running the output again replaces the injected cell instead of adding another
    again = nbbridge("run", out, "-p", "alpha", "7", "-p", "name", "x", "-p", "ratio", "1",
                     "-p", "flag", "None")
    assert again.returncode == 0, again.stderr
    cells = cells_of(out)
    assert len(cells) == 3
    assert text_of(cells[2]) == "7 'x' 1 None\n"


def test_timeout_interrupts_a_hanging_cell(tmp_path: Path) -> None:
    source = tmp_path / "hang.ipynb"
    write_notebook(source, new_code_cell("print('before')"), new_code_cell("while True: pass"),
                   new_code_cell("print('never')"))
    out = tmp_path / "out.ipynb"
    done = nbbridge("run", source, "-o", out, "--timeout", "2")
    assert done.returncode == 3
    assert_one_line_error(done.stderr, "cell 2", "--timeout 2 s")
    cells = cells_of(out)
    assert text_of(cells[0]) == "before\n"
    # the kernel's own error, then the one that says why it came
    assert [o["ename"] for o in cells[1]["outputs"]] == ["KeyboardInterrupt",
                                                         "CellTimeoutError"]
    assert "after 2 s (--timeout)" in cells[1]["outputs"][-1]["evalue"]
    assert cells[2]["outputs"] == []
    assert no_leftovers(tmp_path) == []


def test_a_timeout_with_allow_errors_is_recorded_and_the_run_goes_on(tmp_path: Path) -> None:
    source = tmp_path / "hang.ipynb"
    write_notebook(source, new_code_cell("print('before')"),
                   new_code_cell("import time\nwhile True: time.sleep(0.01)"),
                   new_code_cell("print('after')"))
    done = nbbridge("run", source, "--timeout", "2", "--allow-errors")
    assert done.returncode == 0, done.stderr
    assert "timeout: cell 2" in done.stderr
    cells = cells_of(source)
    error = cells[1]["outputs"][-1]
    assert error["output_type"] == "error" and error["ename"] == "CellTimeoutError"
    assert cells[1]["execution_count"] == 2
    assert text_of(cells[2]) == "after\n" and cells[2]["execution_count"] == 3


def test_ipykernel_keeps_its_history_in_memory(tmp_path: Path) -> None:
    ipython_dir = tmp_path / "ipython"
    source = tmp_path / "history.ipynb"
    write_notebook(source, new_code_cell(
        "ip = get_ipython()\nprint(ip.history_manager.hist_file)\n"
        "print(ip.profile_dir.location)"), new_code_cell("1 + 1"))
    done = nbbridge("run", source, env={"IPYTHONDIR": str(ipython_dir)})
    assert done.returncode == 0, done.stderr
    hist_file, profile = text_of(cells_of(source)[0]).splitlines()
    assert hist_file == ":memory:"
    assert Path(profile).is_relative_to(ipython_dir)  # the kernel did use this folder
    assert not [p for p in ipython_dir.rglob("*") if "history" in p.name]


def test_cwd_is_the_notebooks_folder_or_the_one_given(tmp_path: Path) -> None:
    folder, elsewhere = tmp_path / "notebooks", tmp_path / "data"
    folder.mkdir()
    elsewhere.mkdir()
    (elsewhere / "input.txt").write_text("from data\n")
    source = folder / "where.ipynb"
    write_notebook(source, new_code_cell("import os\nprint(os.getcwd())"))
    done = nbbridge("run", source, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert text_of(cells_of(source)[0]) == f"{folder}\n"
    write_notebook(source, new_code_cell("import os\nprint(os.getcwd())"),
                   new_code_cell("print(open('input.txt').read(), end='')"))
    done = nbbridge("run", source, "--cwd", "data", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    cells = cells_of(source)
    assert text_of(cells[0]) == f"{elsewhere}\n"
    assert text_of(cells[1]) == "from data\n"


def test_parameters_from_yaml_keep_their_types_and_p_wins(tmp_path: Path) -> None:
    source = tmp_path / "params.ipynb"
    write_notebook(source, new_code_cell("n = 0", metadata={"tags": ["parameters"]}),
                   new_code_cell("for name in ('n', 'label', 'items', 'table', 'ratio'):\n"
                                 "    print(name, repr(globals()[name]))"))
    params = tmp_path / "params.yaml"
    params.write_text("n: 1\nlabel: '007'\nitems: [1, two, 3.5]\n"
                      "table: {a: 1, b: [true, null]}\nratio: .5\n")
    done = nbbridge("run", source, "-f", params, "-p", "n", "5")
    assert done.returncode == 0, done.stderr
    cells = cells_of(source)
    assert cells[1]["metadata"]["tags"] == ["injected-parameters"]
    assert text_of(cells[2]).splitlines() == [
        "n 5", "label '007'", "items [1, 'two', 3.5]", "table {'a': 1, 'b': [True, None]}",
        "ratio 0.5"]


def test_log_output_echoes_outputs_as_they_come(tmp_path: Path) -> None:
    source = tmp_path / "log.ipynb"
    write_notebook(source, new_code_cell("print('line one')\nprint('line two')"),
                   new_code_cell("6 * 7"), new_code_cell("1 / 0"),
                   new_code_cell("print('after', end='')"))
    done = nbbridge("run", source, "--log-output", "--allow-errors")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    # each cell's outputs come after its progress line, before the next cell's
    assert lines[0].startswith("[1/4]") and lines[0].endswith("cell 1: print('line one')")
    assert lines[1:3] == ["line one", "line two"]
    assert lines[3].endswith("cell 2: 6 * 7") and lines[4] == "42"
    assert lines[5].endswith("cell 3: 1 / 0")
    assert any("ZeroDivisionError" in line for line in lines[6:])
    assert "\x1b[" not in done.stderr  # not a terminal: no colours
    assert "after" in lines  # a line left open ends with its cell
    # without the flag, none of it
    quiet = nbbridge("run", source, "--allow-errors")
    assert not {"line one", "42", "after"} & set(quiet.stderr.splitlines())


def start_run(source: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "bridge", "run", str(source), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def wait_for(path: Path, process: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def sleeping_notebook(tmp_path: Path) -> tuple[Path, Path, bytes]:
    source, marker = tmp_path / "sleepy.ipynb", tmp_path / "marker"
    original = write_notebook(
        source,
        new_code_cell("print('first')"),
        new_code_cell(f"import pathlib, time\npathlib.Path({str(marker)!r}).touch()\n"
                      "time.sleep(600)"),
        new_code_cell("print('never')"),
    )
    return source, marker, original


def test_ctrl_c_interrupts_the_kernel_saves_what_ran_and_exits_130(tmp_path: Path) -> None:
    source, marker, _ = sleeping_notebook(tmp_path)
    process = start_run(source, "--inplace")
    wait_for(marker, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert_one_line_error(stderr, "interrupted in cell 2")
    cells = cells_of(source)
    assert text_of(cells[0]) == "first\n"
    assert cells[1]["outputs"][-1]["ename"] == "KeyboardInterrupt"
    assert cells[2]["outputs"] == [] and cells[2]["execution_count"] is None


def test_killed_mid_run_leaves_the_original_intact(tmp_path: Path) -> None:
    source, marker, original = sleeping_notebook(tmp_path)
    process = start_run(source, "--inplace")
    wait_for(marker, process)
    children = psutil.Process(process.pid).children(recursive=True)
    # the kernel's private runtime folder (connection file, sockets), removed afterwards
    runtime = [Path(argument).parent for child in children for argument in child.cmdline()
               if argument.endswith(".json") and Path(argument).parent.name.startswith("nb-")]
    for pid in [process.pid, *(child.pid for child in children)]:
        os.kill(pid, signal.SIGKILL)
    process.communicate(timeout=60)
    for folder in runtime:
        shutil.rmtree(folder, ignore_errors=True)
    assert source.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["marker", "sleepy.ipynb"]


@pytest.mark.parametrize(("make", "args", "expected"), [
    (None, (), "no such file"),
    ("text", (), "not valid JSON"),
    ("json", (), "not a Jupyter notebook"),
    ("notebook", ("--kernel", "no-such-kernel"), "no kernelspec named 'no-such-kernel'"),
    ("python2", (), "the notebook asks for 'python2'; choose another with --kernel NAME"),
    ("notebook", ("--timeout", "0"), "--timeout must be a positive"),
    ("notebook", ("-p", "not an identifier", "1"), "is not an identifier"),
    ("notebook", ("-f", "no-such.yaml"), "cannot read parameter file"),
    ("notebook", ("--cwd", "no/such/folder"), "--cwd no/such/folder: no such folder"),
    ("notebook", ("--jobs", "0"), "--jobs must be at least 1"),
    ("notebook", ("-o", "no/such/folder/out.ipynb"), "no folder"),
])
def test_bad_input_is_one_line_and_writes_nothing(
        tmp_path: Path, make: str | None, args: tuple[str, ...], expected: str) -> None:
    source = tmp_path / "input.ipynb"
    if make == "text":
        source.write_text("just some words\n")
    elif make == "json":
        source.write_text('["a", "list"]')
    elif make == "notebook":
        write_notebook(source, new_code_cell("print(1)"))
    elif make == "python2":
        nbformat.write(new_notebook(cells=[new_code_cell("print 1")], metadata={
            "kernelspec": {"name": "python2", "display_name": "Python 2"}}), source)
    before = sorted(tmp_path.iterdir())
    out = tmp_path / "out.ipynb"
    done = nbbridge("run", source, *(args if "-o" in args else ("-o", out, *args)))
    assert done.returncode == 2
    assert_one_line_error(done.stderr, expected)
    assert sorted(tmp_path.iterdir()) == before


def test_a_dying_kernel_ends_the_run_even_with_allow_errors(tmp_path: Path) -> None:
    source = tmp_path / "dies.ipynb"
    write_notebook(source, new_code_cell("print('alive')"),
                   new_code_cell("import os\nos._exit(3)"), new_code_cell("print('never')"))
    done = nbbridge("run", source, "--allow-errors")
    assert done.returncode == 1
    assert_one_line_error(done.stderr, "the kernel died in cell 2")
    cells = cells_of(source)
    assert text_of(cells[0]) == "alive\n"
    assert cells[1]["outputs"][-1]["ename"] == "KernelDied"
    assert cells[2]["outputs"] == []


def test_a_notebook_saved_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    source = tmp_path / "edited.ipynb"
    # the cell stands in for an editor saving the notebook while the run goes on
    write_notebook(source, new_code_cell(
        "import pathlib\nnb = pathlib.Path('edited.ipynb')\n"
        "nb.write_text(nb.read_text().replace('saved meanwhile', 'SAVED MEANWHILE'))\n"
        "print('saved meanwhile')"))
    done = nbbridge("run", source, "--inplace")
    assert done.returncode == 1
    assert_one_line_error(done.stderr, "changed on disk during the run", "edited.run.ipynb")
    assert "SAVED MEANWHILE" in source.read_text()
    ran = cells_of(tmp_path / "edited.run.ipynb")
    assert text_of(ran[0]) == "saved meanwhile\n"


def test_progress_on_a_terminal_is_one_redrawn_line(tmp_path: Path) -> None:
    import pty

    source = tmp_path / "bar.ipynb"
    write_notebook(source, new_code_cell("import time\ntime.sleep(1.5)"),
                   new_code_cell("print('second')"))
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "bridge", "run", str(source)],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=follower)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closes with the process
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert process.wait(timeout=120) == 0
    screen = seen.decode()
    assert "\r\x1b[K[" in screen and "] 1/2 " in screen and "] 2/2 " in screen
    assert "cell 1: import time" in screen and "cell 2: print('second')" in screen
    assert "[1/2]" not in screen  # no plain per-cell lines on a terminal
    assert screen.rstrip().endswith("wrote " + str(source))
