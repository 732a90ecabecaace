"""Layout detection on small handmade files, and the encoder writing them back.

Each file is what some tool writes (Jupyter's own `json.dumps(indent=1, sort_keys=True,
ensure_ascii=False)`, other indents, CRLF, one line, ASCII escapes, unsorted keys); the
style detected from it must make the encoder give back the very same text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from bridge.notebook.style import CANONICAL, Encoder, FileStyle, detect_style


def notebook(source: Any = ("x = 'café'\n", "print(x)")) -> dict[str, Any]:
    return {
        "cells": [
            {"cell_type": "code", "execution_count": 1, "id": "c1", "metadata": {},
             "outputs": [{"name": "stdout", "output_type": "stream", "text": ["café\n"]}],
             "source": list(source) if isinstance(source, tuple) else source},
            {"attachments": {}, "cell_type": "markdown", "id": "c2",
             "metadata": {"tags": ["a"]}, "source": ["# Tea ☕ and 😀, 1.5 \u00d7 2"]},
        ],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                    "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def reversed_keys(value: Any) -> Any:
    """The same JSON with every object's keys in reverse sorted order."""
    if isinstance(value, dict):
        return {key: reversed_keys(value[key]) for key in sorted(value, reverse=True)}
    if isinstance(value, list):
        return [reversed_keys(item) for item in value]
    return value


def jupyter(nb: dict[str, Any]) -> str:
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def detected(text: str) -> FileStyle:
    return detect_style(text, json.loads(text))


def test_jupyters_own_layout_is_the_canonical_style() -> None:
    assert detected(jupyter(notebook())) == CANONICAL


LAYOUTS: dict[str, tuple[Callable[[], str], dict[str, Any]]] = {
    "indent 2": (lambda: json.dumps(notebook(), indent=2, sort_keys=True,
                                    ensure_ascii=False) + "\n", {"indent": "  "}),
    "indent 4, no final newline": (
        lambda: json.dumps(notebook(), indent=4, sort_keys=True, ensure_ascii=False),
        {"indent": "    ", "trailer": ""}),
    "tabs": (lambda: json.dumps(notebook(), indent="\t", sort_keys=True,
                                ensure_ascii=False) + "\n", {"indent": "\t"}),
    "CRLF": (lambda: jupyter(notebook()).replace("\n", "\r\n"),
             {"newline": "\r\n", "trailer": "\r\n"}),
    "blank lines after": (lambda: jupyter(notebook()) + " \n\n", {"trailer": "\n \n\n"}),
    # more white space than the first look at the file's end takes in
    "a long tail": (lambda: jupyter(notebook()) + "\n" * 300, {"trailer": "\n" * 301}),
    "one line": (lambda: json.dumps(notebook(), sort_keys=True, ensure_ascii=False),
                 {"indent": None, "item_separator": ", ", "trailer": ""}),
    "one tight line": (
        lambda: json.dumps(notebook(), sort_keys=True, ensure_ascii=False,
                           separators=(",", ":")) + "\n",
        {"indent": None, "item_separator": ",", "key_separator": ":"}),
    "indented, tight keys": (
        lambda: json.dumps(notebook(), indent=1, sort_keys=True, ensure_ascii=False,
                           separators=(",", ":")) + "\n", {"key_separator": ":"}),
    "ASCII escapes": (lambda: json.dumps(notebook(), indent=1, sort_keys=True) + "\n",
                      {"ensure_ascii": True}),
    "source as one string": (lambda: jupyter(notebook("x = 1\nprint(x)")),
                             {"source_as_list": False}),
    "unsorted keys": (
        lambda: json.dumps(reversed_keys(notebook()), indent=1, ensure_ascii=False) + "\n",
        {"sort_keys": False,
         "top_key_order": ("nbformat_minor", "nbformat", "metadata", "cells"),
         # the key order of the cells, each key where it first shows up
         "cell_key_order": ("source", "outputs", "metadata", "id", "execution_count",
                            "cell_type", "attachments")}),
}


@pytest.mark.parametrize("name", LAYOUTS)
def test_the_layout_is_detected(name: str) -> None:
    make, differences = LAYOUTS[name]
    text = make()
    style = detected(text)
    assert style.to_json() == {**CANONICAL.to_json(), **differences}
    assert style.is_well_formed()


@pytest.mark.parametrize("name", ["canonical", *LAYOUTS])
def test_the_detected_style_writes_the_file_back_byte_for_byte(name: str) -> None:
    text = jupyter(notebook()) if name == "canonical" else LAYOUTS[name][0]()
    top = json.loads(text)
    style = detect_style(text, top)
    assert Encoder(style).encode(top).decode() + style.trailer == text
    # the file as bytes (how large files are read) gives the same style
    assert detect_style(text.encode(), top) == style


def test_control_characters_escaped_by_any_writer_are_not_ascii_escaping() -> None:
    # json.dumps escapes ESC as \u001b even with ensure_ascii=False: no sign of ASCII
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": "c1",
                     "metadata": {}, "outputs": [],
                     "source": ["print('\x1b[31mred\x1b[0m')"]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    text = jupyter(nb)
    assert "\\u001b" in text and text.isascii()
    assert detected(text).ensure_ascii is False
    # while one escaped letter in an ASCII file is
    assert detected(text.replace("red", "r\\u00e9d")).ensure_ascii is True


def test_keys_count_as_sorted_only_if_top_first_cell_and_metadata_all_are() -> None:
    nb = notebook()
    first = nb["cells"][0]
    nb["cells"][0] = {"source": first["source"], **first}  # "source" first: unsorted
    text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    style = detected(text)
    assert style.sort_keys is False
    assert style.top_key_order == ("cells", "metadata", "nbformat", "nbformat_minor")
    # the code cell's own order; the markdown cell keeps the sorted one
    code_order = [key for key in style.cell_order("code") if key in first]
    assert code_order[:2] == ["source", "cell_type"]
    assert dict(style.kind_key_orders)["markdown"] == tuple(sorted(nb["cells"][1]))
    # a later cell's own order does not matter
    nb = notebook()
    nb["cells"][1] = reversed_keys(nb["cells"][1])
    assert detected(json.dumps(nb, indent=1, ensure_ascii=False) + "\n").sort_keys is True


def test_an_unusual_key_separator_falls_back_to_the_usual_one() -> None:
    text = json.dumps(notebook(), indent=1, sort_keys=True, separators=(",", " : "))
    assert detected(text).key_separator == ": "


@pytest.mark.parametrize("text", ["", "[]", "{}", "  {  }\n", "not json", '"cells"'])
def test_what_is_no_object_with_keys_gets_the_canonical_style(text: str) -> None:
    assert detect_style(text, {}) == CANONICAL


def test_a_style_survives_json_and_a_bad_one_becomes_canonical() -> None:
    style = detected(LAYOUTS["unsorted keys"][0]().replace("\n", "\r\n"))
    assert style.newline == "\r\n" and style.cell_key_order
    assert FileStyle.from_json(json.loads(json.dumps(style.to_json()))) == style
    for bad in (None, [], "style", {"indent": "x"}, {"newline": "\r"}, {"newline": 5},
                {"item_separator": ";"}, {"trailer": "x"}, {"key_separator": "="}):
        assert FileStyle.from_json(bad) == CANONICAL, bad
    # members it does not know are left out, not fatal
    assert FileStyle.from_json({"indent": "  ", "colour": "red"}) == FileStyle(indent="  ")
