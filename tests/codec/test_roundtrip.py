"""Reading then writing an unchanged notebook gives back the very same bytes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from bridge.notebook.reading import read_notebook
from bridge.notebook.store import NotebookStore
from bridge.notebook.writing import write_notebook

from codec.helpers import parseable_v4

V4 = parseable_v4()
store = NotebookStore()


def through_client(text: str | bytes) -> str:
    """Read, pass through JSON as a client would, write; with a cold text cache."""
    result = read_notebook(text, NotebookStore()).result
    return write_notebook(orjson.loads(orjson.dumps(result["notebook"])), NotebookStore())


@pytest.mark.parametrize("path", V4, ids=[p.name for p in V4])
def test_corpus_notebook_round_trips_byte_identical(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert through_client(text) == text
    assert through_client(path.read_bytes()) == text  # as base64 clients send it


def relaid(top: dict[str, Any], **options: Any) -> str:
    return json.dumps(top, **options)


STYLES = {
    "indent 1 sorted (nbformat)": {"indent": 1, "sort_keys": True, "ensure_ascii": False},
    "indent 2": {"indent": 2, "sort_keys": True, "ensure_ascii": False},
    "indent 4 unsorted": {"indent": 4, "ensure_ascii": False},
    "tabs": {"indent": "\t", "sort_keys": True, "ensure_ascii": False},
    "ascii escapes": {"indent": 1, "sort_keys": True, "ensure_ascii": True},
    "compact": {"separators": (",", ":"), "ensure_ascii": False},
    "compact with spaces": {"ensure_ascii": False},
    "indent 0": {"indent": 0, "sort_keys": True, "ensure_ascii": False},
}
UNICODE = next(p for p in V4 if "unicode" in p.name)
SAMPLES = [UNICODE, *V4[::25]]


@pytest.mark.parametrize("name", STYLES)
@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
@pytest.mark.parametrize("ending", ["\n", ""], ids=["newline", "no-newline"])
def test_every_layout_round_trips(name: str, path: Path, ending: str) -> None:
    top = json.loads(path.read_text(encoding="utf-8"))
    text = relaid(top, **STYLES[name]) + ending
    assert through_client(text) == text
    assert through_client(text.encode()) == text


def test_reversed_key_order_and_string_sources_round_trip() -> None:
    top = json.loads(UNICODE.read_text(encoding="utf-8"))

    def reverse(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: reverse(value[k]) for k in reversed(list(value))}
        if isinstance(value, list):
            return [reverse(v) for v in value]
        return value

    top = reverse(top)
    for cell in top["cells"]:
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
    text = json.dumps(top, indent=2, ensure_ascii=False) + "\n"
    assert through_client(text) == text


def test_odd_numbers_escapes_and_whitespace_survive_verbatim() -> None:
    # Written by hand or by other tools: JavaScript floats, an escaped slash, upper-case
    # hex escapes, a stray space, CRLF after the closing brace.
    text = (
        '{\n "cells": [\n  {\n   "cell_type": "code",\n   "execution_count": 3,\n'
        '   "metadata": {"scale": 0.00001, "big": 1E+22, "n": 1.50},\n'
        '   "outputs": [],\n   "source": ["a = \\"x\\/y\\u00E9\\"\\n", "b = 1"]\n  } ,\n'
        '  {\n   "cell_type": "markdown",\n   "metadata": {},\n   "source": ["# t"]\n  }\n'
        ' ],\n "metadata": {"w": 1e-7},\n "nbformat": 4,\n "nbformat_minor": 2\n}\r\n'
    )
    result = read_notebook(text, store).result
    assert result["notebook"]["cells"][0]["source"] == 'a = "x/yé"\nb = 1'
    assert through_client(text) == text


def test_cell_ids_attachments_widgets_and_unknown_metadata_survive() -> None:
    top = {
        "cells": [
            {"cell_type": "markdown", "id": "intro-1", "metadata": {"custom": {"k": [1]}},
             "attachments": {"a.png": {"image/png": "iVBORw0KGgo="}},
             "source": ["![a](attachment:a.png)"]},
            {"cell_type": "code", "id": "run-2", "execution_count": 42,
             "metadata": {"tags": ["x"]}, "outputs": [
                 {"output_type": "display_data", "metadata": {},
                  "data": {"application/vnd.jupyter.widget-view+json": {
                      "model_id": "abc", "version_major": 2, "version_minor": 0},
                      "text/plain": ["IntSlider()"]}}],
             "source": ["w"]},
        ],
        "metadata": {"widgets": {"application/vnd.jupyter.widget-state+json": {
            "state": {"abc": {"model_name": "IntSliderModel", "state": {"value": 3}}},
            "version_major": 2, "version_minor": 0}}, "my_tool": {"keep": True}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    text = json.dumps(top, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    notebook = read_notebook(text, store).result["notebook"]
    notebook["cells"][1]["source"] = "w.value"  # edit one cell; the rest must survive
    out = json.loads(write_notebook(notebook, store))
    assert out["metadata"] == top["metadata"]
    assert out["cells"][0] == top["cells"][0]
    assert out["cells"][1]["execution_count"] == 42
    assert out["cells"][1]["id"] == "run-2"
    assert out["cells"][1]["outputs"] == top["cells"][1]["outputs"]
    assert out["cells"][1]["source"] == ["w.value"]
