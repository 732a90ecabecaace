"""How many notebooks of the corpus take a one-cell source edit as a minimal diff.

For every nbformat 4 notebook of the corpus (../shared/corpus, or $NBBRIDGE_CORPUS) and
every code cell in it, the cell's source is changed (one line edited, one added) and the
notebook saved through the codec; the edit is minimal when the file's changed lines are
all lines of that cell's source. Prints the notebooks whose every such edit is minimal,
the edits that are, and the first few that are not, with their diffs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from bridge.notebook.reading import read_notebook
from bridge.notebook.store import NotebookStore

from codec.helpers import parseable_v4
from codec.minimal_diff import edit_outside_source, edited_source


def main(show: int) -> None:
    store = NotebookStore()
    notebooks = minimal_notebooks = edits = minimal_edits = 0
    shown = 0
    for path in parseable_v4():
        text = path.read_text(encoding="utf-8")
        notebook = read_notebook(text, store).result["notebook"]
        code = [index for index, cell in enumerate(notebook["cells"])
                if cell["kind"] == "code" and "noSource" not in cell.get("codec", {})]
        if not code:
            continue
        notebooks += 1
        all_minimal = True
        for index in code:
            source = edited_source(notebook["cells"][index]["source"])
            diff = edit_outside_source(text, notebook, index, source, store)
            edits += 1
            if diff is None:
                minimal_edits += 1
                continue
            all_minimal = False
            if shown < show:
                shown += 1
                print(f"--- {path.relative_to(path.parents[1])}, cell {index}:\n{diff[:1500]}")
        minimal_notebooks += all_minimal
    print(f"one-cell source edits touching only that source: {minimal_notebooks} of "
          f"{notebooks} notebooks (every code cell edited in turn); {minimal_edits} of "
          f"{edits} edits")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", type=int, default=5, help="diffs of non-minimal edits")
    main(parser.parse_args().show)
