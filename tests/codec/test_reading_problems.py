"""Old, invalid and broken files: upgraded, warned about, or refused with a clear error."""

from __future__ import annotations

import json

import nbformat
import pytest

from bridge.errors import BridgeError, ErrorCode
from bridge.notebook.reading import read_notebook
from bridge.notebook.store import NotebookStore
from bridge.notebook.writing import write_notebook

from conftest import CORPUS

store = NotebookStore()  # this module's bridge state


@pytest.mark.parametrize("name", ["test2.ipynb", "test3.ipynb", "test3_no_min_version.ipynb"])
def test_old_nbformat_opens_upgraded_with_a_warning_and_saves_as_v4(name: str) -> None:
    text = (CORPUS / "nbformat" / "tests" / name).read_text(encoding="utf-8")
    old_cells = sum(len(ws["cells"]) for ws in json.loads(text).get("worksheets", []))
    result = read_notebook(text, store).result
    assert any("upgraded to nbformat 4" in w for w in result["warnings"])
    assert len(result["notebook"]["cells"]) == old_cells
    saved = write_notebook(result["notebook"], store)
    node = nbformat.reads(saved, as_version=4)
    assert node.nbformat == 4
    nbformat.validate(node)


def test_every_schema_problem_is_listed_and_nothing_dropped() -> None:
    text = (CORPUS / "nbformat" / "tests" / "invalid.ipynb").read_text(encoding="utf-8")
    result = read_notebook(text, store).result
    problems = [w for w in result["warnings"] if w.startswith("schema:")]
    assert problems, result["warnings"]
    assert len(result["notebook"]["cells"]) == len(json.loads(text)["cells"])
    assert write_notebook(result["notebook"], store) == text


def test_duplicate_cell_ids_are_reported() -> None:
    text = (CORPUS / "nbformat" / "tests" / "invalid_unique_cell_id.ipynb").read_text()
    warnings = read_notebook(text, store).result["warnings"]
    assert any("ids must be unique" in w for w in warnings), warnings


@pytest.mark.parametrize(("text", "code", "words"), [
    ("", ErrorCode.NOT_JSON, "empty"),
    ('{"cells": [', ErrorCode.NOT_JSON, "line 1, column 12"),
    ('{\n "cells": [],\n "nbformat": 4,\n "metadata": {}\n', ErrorCode.NOT_JSON, "line 5"),
    ("[1, 2]", ErrorCode.NOT_A_NOTEBOOK, "array"),
    ('{"cells": []}', ErrorCode.NOT_A_NOTEBOOK, "'nbformat'"),
    ('{"nbformat": 5, "cells": []}', ErrorCode.NOT_A_NOTEBOOK, "newer"),
])
def test_broken_input_gets_an_error_naming_the_problem(
    text: str, code: ErrorCode, words: str
) -> None:
    with pytest.raises(BridgeError) as caught:
        read_notebook(text, store)
    assert caught.value.code == code
    assert words in caught.value.message


def test_cells_that_are_not_cells_are_kept_whole() -> None:
    top = {"cells": [{"cell_type": "code", "source": 5, "metadata": {}}, "junk"],
           "metadata": {}, "nbformat": 4, "nbformat_minor": 4}
    text = json.dumps(top, indent=1) + "\n"
    result = read_notebook(text, store).result
    assert [c["kind"] for c in result["notebook"]["cells"]] == ["raw", "raw"]
    assert result["warnings"]
    assert write_notebook(result["notebook"], store) == text
