"""Saving a changed notebook: minimal diffs, new cells, new notebooks in nbformat 4.5 form."""

from __future__ import annotations

import difflib
import json

import nbformat

from bridge.notebook.layout import cell_spans
from bridge.notebook.reading import read_notebook
from bridge.notebook.store import NotebookStore
from bridge.notebook.writing import write_notebook

from codec.helpers import parseable_v4
from codec.minimal_diff import changed_line_numbers, edit_outside_source, edited_source

store = NotebookStore()  # this module's bridge state


def changed_lines(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]


def cell_lines(text: str, index: int) -> range:
    """The line numbers (0-based) of the file that hold cell `index`."""
    spans = cell_spans(text)
    assert spans is not None
    start, end = spans[index]
    return range(text.count("\n", 0, start), text.count("\n", 0, end) + 1)


def test_changing_one_cell_changes_only_its_lines() -> None:
    checked = 0
    for path in parseable_v4():
        text = path.read_text(encoding="utf-8")
        notebook = read_notebook(text, store).result["notebook"]
        code = [i for i, c in enumerate(notebook["cells"])
                if c["kind"] == "code" and c["source"].strip() and "\n" not in c["source"]]
        if len(notebook["cells"]) < 3 or not code:
            continue
        index = code[len(code) // 2]
        notebook["cells"][index]["source"] += "  # edited"
        after = write_notebook(notebook, store)
        old, new = changed_line_numbers(text, after)
        assert old and old <= set(cell_lines(text, index)), path.name
        assert new and new <= set(cell_lines(after, index)), path.name
        if "verbatim" not in notebook["cells"][index].get("codec", {}):
            diff = changed_lines(text, after)
            assert len(diff) == 2, (path.name, diff)  # one line out, one line in
            assert "# edited" in diff[1]
        assert json.loads(after)["cells"][index]["source"] in (
            notebook["cells"][index]["source"], notebook["cells"][index]["source"].splitlines(True))
        checked += 1
    assert checked > 20


def test_inserting_a_cell_adds_only_that_cell() -> None:
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# A", id="a"), nbformat.v4.new_code_cell("x = 1", id="b")])
    text = nbformat.writes(nb) + "\n"
    notebook = read_notebook(text, store).result["notebook"]
    notebook["cells"].insert(1, {"kind": "code", "source": "y = 2\nprint(y)"})
    after = write_notebook(notebook, store)
    diff = changed_lines(text, after)
    assert all(line.startswith("+") for line in diff), diff
    written = json.loads(after)["cells"][1]
    assert written["source"] == ["y = 2\n", "print(y)"]
    assert written["execution_count"] is None and written["outputs"] == []
    assert isinstance(written["id"], str) and written["id"]
    nbformat.validate(nbformat.reads(after, as_version=4))


def test_new_notebook_is_written_in_canonical_nbformat_45() -> None:
    notebook = {"cells": [
        {"kind": "markdown", "source": "# Title\nText é 😀"},
        {"kind": "code", "source": "print(1)", "outputs": [
            {"output_type": "stream", "name": "stdout", "text": "1\n"}], "execution_count": 1},
        {"kind": "raw", "source": ""},
    ], "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                   "language": "python"}}}
    text = write_notebook(notebook, store)
    parsed = json.loads(text)
    assert text == json.dumps(parsed, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    assert parsed["nbformat"] == 4 and parsed["nbformat_minor"] == 5
    assert [c["cell_type"] for c in parsed["cells"]] == ["markdown", "code", "raw"]
    assert all(isinstance(c["id"], str) for c in parsed["cells"])
    assert len({c["id"] for c in parsed["cells"]}) == 3
    nbformat.validate(nbformat.reads(text, as_version=4))


def test_saving_twice_is_stable() -> None:
    notebook = {"cells": [{"kind": "code", "source": "a"}]}
    first = write_notebook(notebook, store)
    reread = read_notebook(first, store).result["notebook"]
    assert write_notebook(reread, store) == first


def _unsorted_file(cells: list[dict], metadata: dict) -> str:
    return json.dumps({"metadata": metadata, "nbformat": 4, "nbformat_minor": 4,
                       "cells": cells}, indent=1, ensure_ascii=False) + "\n"


def test_sorted_cells_under_hand_ordered_metadata_stay_sorted() -> None:
    code = {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [],
            "source": ["x = 1"]}
    markdown = {"cell_type": "markdown", "metadata": {}, "source": ["# A"]}
    text = _unsorted_file([markdown, code], {"language_info": {"name": "python"},
                                             "kernelspec": {"name": "python3"}})
    notebook = read_notebook(text, store).result["notebook"]
    assert all("verbatim" not in cell.get("codec", {}) for cell in notebook["cells"])
    notebook["cells"].append({"kind": "code", "source": "y = 2"})
    written = json.loads(write_notebook(notebook, store))["cells"][2]
    assert list(written) == sorted(written)


def test_a_new_code_cell_takes_the_code_cells_member_order() -> None:
    code = {"cell_type": "code", "source": ["x = 1"], "execution_count": 1,
            "metadata": {}, "outputs": []}
    markdown = {"cell_type": "markdown", "metadata": {}, "source": ["# A"]}
    text = _unsorted_file([markdown, code], {"kernelspec": {"name": "python3"}})
    notebook = read_notebook(text, store).result["notebook"]
    assert all("verbatim" not in cell.get("codec", {}) for cell in notebook["cells"])
    notebook["cells"].append({"kind": "code", "source": "y = 2"})
    after = write_notebook(notebook, store)
    assert list(json.loads(after)["cells"][2]) == list(code)
    assert all(line.startswith("+") for line in changed_lines(text, after))


def test_every_code_cell_edit_in_the_corpus_changes_only_its_source() -> None:
    edits = 0
    for path in parseable_v4():
        text = path.read_text(encoding="utf-8")
        notebook = read_notebook(text, store).result["notebook"]
        for index, cell in enumerate(notebook["cells"]):
            if cell["kind"] != "code" or "noSource" in cell.get("codec", {}):
                continue
            diff = edit_outside_source(text, notebook, index, edited_source(cell["source"]),
                                       store)
            assert diff is None, (path.name, index, diff)
            edits += 1
    assert edits > 300
