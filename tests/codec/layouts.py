"""Notebooks written in generated layouts, the way hand edits and other tools leave them:
per-level indentation (regular or not), arrays inline or expanded, blank lines inside
empty containers, member orders that differ per object, members left out, escapes."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

from hypothesis import strategies as st

_text = st.text(st.characters(min_codepoint=1, max_codepoint=0x1F600, exclude_categories=("Cs",)),
                max_size=12)
line_text = _text.map(lambda text: text.replace("\r", ""))
_source = st.lists(line_text, max_size=4).map(lambda lines: "\n".join(lines))
_small = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=6)
_metadata = st.fixed_dictionaries({}, optional={
    "tags": st.lists(st.sampled_from(["remove-cell", "hide-input", "parameters"]),
                     max_size=2),
    "collapsed": st.booleans(),
    "extra": st.dictionaries(st.sampled_from(["a", "b", "é"]), _small, max_size=2),
})
_output = st.one_of(
    st.fixed_dictionaries({"output_type": st.just("stream"),
                           "name": st.sampled_from(["stdout", "stderr"]), "text": _source}),
    st.fixed_dictionaries({"output_type": st.just("display_data"), "metadata": st.just({}),
                           "data": st.fixed_dictionaries({"text/plain": _source})}),
)


@st.composite
def cells(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["code", "markdown", "raw"]))
    cell: dict[str, Any] = {"cell_type": kind, "source": draw(_source)}
    optional: dict[str, Any] = {"metadata": draw(_metadata), "id": draw(
        st.text("abcdef0123456789-", min_size=1, max_size=8))}
    if kind == "code":
        optional["execution_count"] = draw(st.none() | st.integers(1, 99))
        optional["outputs"] = draw(st.lists(_output, max_size=2))
    for key, value in optional.items():
        if draw(st.booleans()) or draw(st.booleans()):  # mostly present
            cell[key] = value
    return cell


@st.composite
def notebooks(draw: st.DrawFn) -> dict[str, Any]:
    metadata = draw(st.fixed_dictionaries({}, optional={
        "kernelspec": st.just({"display_name": "Python 3", "language": "python",
                               "name": "python3"}),
        "language_info": st.just({"name": "python", "version": "3.11.7"}),
        "extra": st.just({}),
    }))
    return {"cells": draw(st.lists(cells(), min_size=1, max_size=5)), "metadata": metadata,
            "nbformat": 4, "nbformat_minor": draw(st.sampled_from([2, 4, 5]))}


class Layout:
    """One way of writing JSON, drawn from `rng`: per-level indents, and per container
    whether it is inline, its member order, blank lines if empty, sources as strings."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.compact = rng.random() < 0.1
        unit = rng.choice([" ", "  ", "    ", "\t"])
        irregular = rng.random() < 0.3
        self.indents = [""]
        for depth in range(1, 12):
            step = " " if irregular and depth > 1 else unit
            self.indents.append(self.indents[-1] + step)
        self.key_separator = rng.choice([": ", ": ", ":", " : "])
        self.newline = "\r\n" if rng.random() < 0.1 else "\n"
        self.sort = rng.random() < 0.5
        self.odd_rate = rng.choice([0.0, 0.2, 0.5])
        self.escape_rate = rng.choice([0.0, 0.0, 0.5, 1.0])
        self.strings_as_lists = rng.random() < 0.8

    def odd(self) -> bool:
        return self.rng.random() < self.odd_rate

    def write(self, notebook: dict[str, Any]) -> str:
        file = dict(notebook)
        file["cells"] = [self._file_cell(cell) for cell in notebook["cells"]]
        return self.value(file, 0) + self.rng.choice(["\n", "\n", "", "\n\n"])

    def _file_cell(self, cell: dict[str, Any]) -> dict[str, Any]:
        file = copy.deepcopy(cell)
        if self.strings_as_lists:
            file["source"] = cell["source"].splitlines(True)
            for output in file.get("outputs", []):
                for holder, key in ((output, "text"), (output.get("data", {}), "text/plain")):
                    if key in holder:
                        holder[key] = holder[key].splitlines(True)
        return file

    def value(self, value: Any, depth: int) -> str:
        if isinstance(value, dict):
            keys = sorted(value) if self.sort else list(value)
            if self.odd():
                self.rng.shuffle(keys)
            items = [self.string(key) + self.key_separator + self.value(value[key], depth + 1)
                     for key in keys]
            return self._container("{", items, "}", depth)
        if isinstance(value, list):
            items = [self.value(item, depth + 1) for item in value]
            return self._container("[", items, "]", depth)
        if isinstance(value, str):
            return self.string(value)
        return json.dumps(value)

    def _container(self, opening: str, items: list[str], closing: str, depth: int) -> str:
        if not items:
            if not self.compact and self.odd():
                return opening + self.newline * 2 + self.indents[depth] + closing
            return opening + closing
        inline = self.compact or (self.odd() and sum(map(len, items)) < 60)
        if inline:
            return opening + self.rng.choice([", ", ","]).join(items) + closing
        inner = self.newline + self.indents[depth + 1]
        return (opening + inner + ("," + inner).join(items) + self.newline
                + self.indents[depth] + closing)

    def string(self, text: str) -> str:
        escape = self.rng.random() < self.escape_rate
        return json.dumps(text, ensure_ascii=escape)
