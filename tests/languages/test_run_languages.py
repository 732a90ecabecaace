"""`nbbridge run` on every other-language kernel: results and errors saved, parameters in
the kernel's own language, a timeout that interrupts and goes on."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell

from conftest import kernel_env, require_kernel

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "run"))
from run_helpers import (
    assert_one_line_error,
    cells_of,
    nbbridge,
    text_of,
    write_bare,
    write_notebook,
)


@dataclass(frozen=True)
class Language:
    kernel: str
    language: str
    define: str  # sets `answer` to 42
    show: str  # shows `answer` (as a result or printed)
    shown: str  # what `show` puts in the cell's text
    error: str  # code that fails
    long: str  # code that runs until interrupted
    after: str  # prints "after"


LANGUAGES = {
    "bash": Language("bash", "bash", "answer=$((6 * 7))", "echo $answer", "42\n",
                     "ls /no/such/folder", "sleep 600", "echo after"),
    "deno": Language("deno", "typescript", "var answer = 6 * 7", "answer", "42",
                     'throw new Error("boom")', "while (true) {}", 'console.log("after")'),
    "xpython": Language("xpython", "python", "answer = 6 * 7", "answer", "42", "1 / 0",
                        "import time\ntime.sleep(600)", "print('after')"),
    "ir": Language("ir", "R", "answer <- 6 * 7", "answer", "[1] 42", 'stop("boom")',
                   "Sys.sleep(600)", 'cat("after\\n")'),
}


def language(name: str) -> Language:
    require_kernel(name)
    return LANGUAGES[name]


def run(*args: str | Path) -> tuple[int, str]:
    done = nbbridge("run", *args, env=kernel_env())
    return done.returncode, done.stderr


def spec(lang: Language) -> dict[str, str]:
    return {"name": lang.kernel, "display_name": lang.kernel, "language": lang.language}


@pytest.mark.parametrize("name", sorted(LANGUAGES))
def test_a_notebook_runs_and_its_error_is_named(tmp_path: Path, name: str) -> None:
    lang = language(name)
    source = tmp_path / f"{name}.ipynb"
    write_notebook(source, new_code_cell(lang.define), new_code_cell(lang.show),
                   new_code_cell(lang.error), new_code_cell(lang.after),
                   kernelspec=spec(lang))
    code, stderr = run(source, "--allow-errors")
    assert code == 0, stderr
    cells = cells_of(source)
    assert lang.shown in text_of(cells[1])
    assert cells[2]["outputs"][-1]["output_type"] == "error"
    assert text_of(cells[3]).strip() == "after"
    reported = next(line for line in stderr.splitlines() if line.startswith("error in cell 3"))
    assert ": :" not in reported and not reported.endswith(": ")  # it says something
    # without --allow-errors the error ends the run, named
    code, stderr = run(source)
    assert code == 1
    assert_one_line_error(stderr, "failed in cell 3")


@pytest.mark.parametrize("name", sorted(LANGUAGES))
def test_a_timeout_interrupts_the_cell_and_the_run_goes_on(tmp_path: Path, name: str) -> None:
    lang = language(name)
    source = tmp_path / f"{name}.ipynb"
    write_notebook(source, new_code_cell(lang.define), new_code_cell(lang.long),
                   new_code_cell(lang.show), kernelspec=spec(lang))
    code, stderr = run(source, "--timeout", "3", "--allow-errors")
    assert code == 0, stderr
    cells = cells_of(source)
    assert cells[1]["outputs"][-1]["ename"] == "CellTimeoutError"
    assert lang.shown in text_of(cells[2])  # the same kernel, its state kept
    assert "timeout: cell 2" in stderr


def test_bash_errors_say_the_exit_status_and_the_last_output(tmp_path: Path) -> None:
    require_kernel("bash")
    source = tmp_path / "fails.ipynb"
    write_notebook(source, new_code_cell("echo fine"), new_code_cell("nosuchcommand_xyz"),
                   kernelspec=spec(LANGUAGES["bash"]))
    code, stderr = run(source)
    assert code == 1
    assert_one_line_error(stderr, "failed in cell 2 ('nosuchcommand_xyz'): error (exit "
                          "status 127); last output: ", "nosuchcommand_xyz: command not found")


def test_bash_parameters_on_a_notebook_that_names_no_language(tmp_path: Path) -> None:
    require_kernel("bash")
    source = tmp_path / "bare.ipynb"
    write_bare(source, new_code_cell("n=1", metadata={"tags": ["parameters"]}),
               new_code_cell('echo "n=$n name=$name items=${items[*]} flag=$flag"'))
    params = tmp_path / "params.yaml"
    params.write_text("items: [1, two words]\nflag: true\n")
    code, stderr = run(source, "--kernel", "bash", "-p", "n", "3", "-p", "name", "it's",
                       "-f", params)
    assert code == 0, stderr
    cells = cells_of(source)
    assert cells[1]["metadata"]["tags"] == ["injected-parameters"]
    assert "".join(cells[1]["source"]) == (
        "# Parameters\nitems=(1 'two words')\nflag=true\nn=3\nname='it'\"'\"'s'\n")
    assert text_of(cells[2]) == "n=3 name=it's items=1 two words flag=true\n"


def test_r_parameters(tmp_path: Path) -> None:
    lang = language("ir")
    source = tmp_path / "r.ipynb"
    write_notebook(source, new_code_cell("n <- 1", metadata={"tags": ["parameters"]}),
                   new_code_cell('cat(n + 1, name, flag, is.null(none), length(items), '
                                 'items[[2]], table$k, "\\n")'), kernelspec=spec(lang))
    params = tmp_path / "params.yaml"
    params.write_text("items: [1, two]\ntable: {k: v}\nnone: null\n")
    code, stderr = run(source, "-p", "n", "3", "-p", "name", 'say "hi"', "-p", "flag",
                       "True", "-f", params)
    assert code == 0, stderr
    cells = cells_of(source)
    assert "".join(cells[1]["source"]) == (
        '# Parameters\nitems = list(1, "two")\ntable = list("k" = "v")\nnone = NULL\n'
        'n = 3\nname = "say \\"hi\\""\nflag = TRUE\n')
    assert text_of(cells[2]) == '4 say "hi" TRUE TRUE 2 two v \n'


def test_a_language_without_parameters_fails_before_any_cell_runs(tmp_path: Path) -> None:
    lang = language("deno")
    source = tmp_path / "ts.ipynb"
    original = write_notebook(source, new_code_cell('console.log("ran")'),
                              kernelspec=spec(lang))
    code, stderr = run(source, "-p", "n", "3")
    assert code == 2
    assert_one_line_error(stderr, "parameters cannot be written in typescript")
    assert source.read_bytes() == original


def test_bash_runs_in_the_folder_given(tmp_path: Path) -> None:
    require_kernel("bash")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    source = tmp_path / "pwd.ipynb"
    write_notebook(source, new_code_cell("pwd"), kernelspec=spec(LANGUAGES["bash"]))
    code, stderr = run(source)
    assert code == 0, stderr
    assert text_of(cells_of(source)[0]) == f"{tmp_path}\n"
    code, stderr = run(source, "--cwd", elsewhere)
    assert code == 0, stderr
    assert text_of(cells_of(source)[0]) == f"{elsewhere}\n"
