"""What one bridge keeps of a notebook it read never ends up in another notebook's file."""

from __future__ import annotations

import json
import random
from typing import Any

from bridge.notebook.reading import read_notebook
from bridge.notebook.store import NotebookStore
from bridge.notebook.writing import write_notebook

from codec.helpers import parseable_v4


def notebook_text(kernelspec: dict[str, str], extra_text: str | None = None) -> str:
    """A small notebook laid out like Jupyter's, but indent 2 and no final newline; with
    `extra_text`, the notebook metadata's empty `extra` object written that way."""
    top: dict[str, Any] = {
        "cells": [{"cell_type": "code", "execution_count": None, "metadata": {},
                   "outputs": [], "source": ["print(1)"]}],
        "metadata": {"extra": {}, "kernelspec": kernelspec}, "nbformat": 4,
        "nbformat_minor": 2}
    text = json.dumps(top, indent=2)
    if extra_text is not None:
        text = text.replace('"extra": {}', f'"extra": {extra_text}', 1)
    return text


def round_trip(store: NotebookStore, text: str) -> str:
    return write_notebook(read_notebook(text, store).result["notebook"], store)


def test_notebooks_differing_in_member_order_keep_their_own() -> None:
    store = NotebookStore()
    first = notebook_text({"display_name": "Python 3", "name": "python3"})
    second = notebook_text({"name": "python3", "display_name": "Python 3"})
    assert round_trip(store, first) == first
    assert round_trip(store, second) == second
    assert round_trip(store, first) == first


def test_a_plain_notebook_does_not_take_an_unusual_neighbours_layout() -> None:
    store = NotebookStore()
    spec = {"display_name": "Python 3", "name": "python3"}
    unusual = notebook_text(spec, extra_text="{\n\n    }")
    plain = notebook_text(spec)
    assert unusual != plain
    assert round_trip(store, unusual) == unusual
    assert round_trip(store, plain) == plain
    assert round_trip(store, unusual) == unusual


def test_many_notebooks_through_one_store_in_random_order() -> None:
    store = NotebookStore()
    files = parseable_v4()
    order = random.Random(7).sample(files * 2, k=min(300, 2 * len(files)))
    for path in order:
        text = path.read_text(encoding="utf-8")
        assert round_trip(store, text) == text, path.name
