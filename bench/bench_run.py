"""Headless run of one 200-cell notebook: `nbbridge run` against nbclient and papermill.

Each tool runs as the command a user would type, start to finish (interpreter start,
kernel start, every cell, writing the file, kernel shutdown), on the same notebook.
Runs are interleaved (one of each per round) so load on a shared machine hits them
alike; each tool's best round is compared. papermill, several times slower (it saves the
notebook after every cell), runs in the first round only unless --papermill-rounds says.

    python bench/bench_run.py [--rounds 2] [--papermill-rounds 1] [--cells 200]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

PYTHON = sys.executable


def bench_notebook(cells: int) -> nbformat.NotebookNode:
    """Cells of the usual kinds: assignments, prints, results, a rich display."""
    sources = []
    for index in range(cells):
        kind = index % 5
        if kind == 0:
            sources.append(f"x{index} = sum(range({index} * 10))")
        elif kind == 1:
            sources.append(f"print('cell {index}', x{index - 1})")
        elif kind == 2:
            sources.append(f"[i * i for i in range({index % 17})]")
        elif kind == 3:
            sources.append("from IPython.display import HTML\n"
                           f"HTML('<b>cell {index}</b>')")
        else:
            sources.append(f"def f{index}(a):\n    return a + {index}\nf{index}(1)")
    notebook = new_notebook(
        cells=[new_markdown_cell("# bench"), *(new_code_cell(s) for s in sources)],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}})
    return notebook


def commands(source: Path, work: Path) -> dict[str, list[str]]:
    return {
        "nbbridge run": [PYTHON, "-m", "bridge", "run", str(source),
                         "-o", str(work / "bridge.ipynb")],
        "nbclient (jupyter nbconvert --execute)": [
            PYTHON, "-m", "nbconvert", "--to", "notebook", "--execute", str(source),
            "--output", str(work / "nbclient.ipynb")],
        "papermill": [PYTHON, "-m", "papermill", "--no-progress-bar", "--log-level", "ERROR",
                      str(source), str(work / "papermill.ipynb")],
    }


def timed(command: list[str]) -> float:
    began = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - began
    if finished.returncode != 0:
        raise SystemExit(f"{command[2]} failed ({finished.returncode}):\n{finished.stderr}")
    return elapsed


def check_outputs(work: Path, cells: int) -> None:
    """Every tool really ran every cell: same execution counts, outputs present."""
    for name in ("bridge", "nbclient", "papermill"):
        notebook = nbformat.read(work / f"{name}.ipynb", as_version=4)
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        counts = [cell.execution_count for cell in code]
        if counts != list(range(1, cells + 1)):
            raise SystemExit(f"{name}: execution counts are not 1..{cells}")
        if not code[1].outputs or "cell 1" not in code[1].outputs[0].get("text", ""):
            raise SystemExit(f"{name}: the print cell has no output")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--papermill-rounds", type=int, default=1)
    parser.add_argument("--cells", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nbbridge-bench-run-") as folder:
        work = Path(folder)
        source = work / "bench.ipynb"
        nbformat.write(bench_notebook(args.cells), source)
        runs = commands(source, work)
        best = {name: float("inf") for name in runs}
        rounds = {name: args.papermill_rounds if name == "papermill" else args.rounds
                  for name in runs}
        for round_number in range(max(rounds.values())):
            for name, command in runs.items():
                if round_number < rounds[name]:
                    best[name] = min(best[name], timed(command))
        check_outputs(work, args.cells)
    ours = best["nbbridge run"]
    for anchor in list(runs)[1:]:
        target = "<= 0.80x" if anchor.startswith("nbclient") else "< 1x"
        print(f"run {args.cells}-cell notebook, wall: "
              f"nbbridge run {ours:.2f} s (best of {rounds['nbbridge run']}) | "
              f"{anchor} {best[anchor]:.2f} s (best of {rounds[anchor]}) | "
              f"ratio {ours / best[anchor]:.2f}x (target {target})")


if __name__ == "__main__":
    main()
