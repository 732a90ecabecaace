"""Parameters: typing `-p` values, reading YAML files, writing the cell in each language
(as papermill's translators do), placing it."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from papermill.translators import translate_parameters

from bridge.errors import BridgeError, ErrorCode
from bridge.headless.parameters import (
    INJECTED_TAG,
    PARAMETERS_TAG,
    inject_parameters,
    parameters_source,
    read_parameter_file,
    syntax_for,
    typed_value,
)


def typed(*pairs: tuple[str, str]) -> dict[str, Any]:
    """Parameters as `-p NAME VALUE` gives them."""
    return {name: typed_value(text) for name, text in pairs}


@pytest.mark.parametrize("text, value", [
    ("True", True), ("False", False), ("None", None),
    ("42", 42), ("-7", -7), ("0", 0),
    ("1.5", 1.5), ("1e3", 1000.0), ("-0.25", -0.25),
    # only Python's own spellings are constants; the rest stays text
    ("true", "true"), ("none", "none"), ("0x10", "0x10"), ("1.2.3", "1.2.3"),
    ("hello world", "hello world"), ("", ""), ("'quoted'", "'quoted'"),
])
def test_values_are_typed_as_papermill_types_them(text: str, value: Any) -> None:
    typed = typed_value(text)
    assert typed == value
    assert type(typed) is type(value)  # 1 is not True, 1.0 is not 1


def test_non_finite_floats_are_floats() -> None:
    nan = typed_value("nan")
    assert isinstance(nan, float) and math.isnan(nan)
    assert typed_value("inf") == math.inf
    assert typed_value("-inf") == -math.inf


def test_the_cell_assigns_each_parameter_in_order() -> None:
    source = parameters_source(typed(("alpha", "0.5"), ("name", "it's \"here\""),
                                     ("flag", "True"), ("count", "3"), ("nothing", "None")))
    assert source.splitlines() == [
        "# Parameters",
        "alpha = 0.5",
        "name = 'it\\'s \"here\"'",
        "flag = True",
        "count = 3",
        "nothing = None",
    ]
    assert source.endswith("\n")
    # the cell is Python that gives back exactly the typed values
    namespace: dict[str, Any] = {}
    exec(source, namespace)
    assert {key: namespace[key] for key in ("alpha", "name", "flag", "count", "nothing")} == {
        "alpha": 0.5, "name": "it's \"here\"", "flag": True, "count": 3, "nothing": None}


def test_nan_and_infinity_are_written_as_python_can_read_them() -> None:
    source = parameters_source(typed(("a", "nan"), ("b", "inf"), ("c", "-inf")))
    assert "a = float('nan')" in source
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # `a = nan` would be a NameError
    assert math.isnan(namespace["a"])
    assert namespace["b"] == math.inf and namespace["c"] == -math.inf


def test_no_parameters_is_just_the_heading() -> None:
    assert parameters_source({}) == "# Parameters\n"


@pytest.mark.parametrize("name", ["1st", "with space", "a-b", "", "x.y"])
def test_a_name_that_is_no_identifier_is_refused(name: str) -> None:
    with pytest.raises(BridgeError) as error:
        parameters_source(typed(("fine", "1"), (name, "2")))
    assert error.value.code == ErrorCode.INVALID_PARAMS
    assert repr(name) in error.value.message


def code(source: str, *tags: str) -> dict[str, Any]:
    cell: dict[str, Any] = {"kind": "code", "source": source, "metadata": {}}
    if tags:
        cell["metadata"]["tags"] = list(tags)
    return cell


def python_notebook(*cells: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"kernelspec": {"name": "python3", "language": "python"}},
            "cells": list(cells)}


def test_the_cell_goes_right_after_the_parameters_cell() -> None:
    notebook = python_notebook(code("import x"), code("a = 1", "other", PARAMETERS_TAG),
                               code("print(a)"))
    assert inject_parameters(notebook, {"a": 2}) == 2
    cells = notebook["cells"]
    assert [c["source"] for c in cells] == ["import x", "a = 1", "# Parameters\na = 2\n",
                                            "print(a)"]
    assert cells[2] == {"kind": "code", "source": "# Parameters\na = 2\n",
                        "metadata": {"tags": [INJECTED_TAG]}, "execution_count": None,
                        "outputs": []}


def test_only_the_first_parameters_cell_counts() -> None:
    notebook = python_notebook(code("a = 1", PARAMETERS_TAG), code("b = 1", PARAMETERS_TAG))
    assert inject_parameters(notebook, {"a": 2}) == 1


def test_without_a_parameters_cell_it_comes_first() -> None:
    notebook = python_notebook(code("print(a)"), code("x = 1", "parameter"))
    assert inject_parameters(notebook, {"a": 2}) == 0
    assert notebook["cells"][0]["metadata"]["tags"] == [INJECTED_TAG]
    assert len(notebook["cells"]) == 3


def test_a_previous_runs_cell_is_replaced_where_it_is() -> None:
    notebook = python_notebook(code("a = 1", PARAMETERS_TAG), code("print(a)"),
                               code("# Parameters\na = 5\n", INJECTED_TAG), code("end"))
    assert inject_parameters(notebook, {"a": 7}) == 2
    assert [c["source"] for c in notebook["cells"]] == [
        "a = 1", "print(a)", "# Parameters\na = 7\n", "end"]
    assert inject_parameters(notebook, {"b": 8}) == 2  # and again: still one
    assert len(notebook["cells"]) == 4
    assert notebook["cells"][2]["source"] == "# Parameters\nb = 8\n"


def test_a_notebook_without_cells_gets_one() -> None:
    notebook: dict[str, Any] = {"metadata": {}}
    assert inject_parameters(notebook, {"a": 1}) == 0
    assert [c["source"] for c in notebook["cells"]] == ["# Parameters\na = 1\n"]


@pytest.mark.parametrize(("names", "found"), [
    (("python", "python", "python3"), "python"),
    (("R", "R", "ir"), "R"),
    (("bash", "bash", "bash"), "bash"),
    (("julia", None, "julia-1.10"), "julia"),
    (("Scala", "scala", "almond"), "Scala"),
    ((None, "", "sparkkernel"), "sparkkernel"),  # papermill's lookup by kernel name
    (("", "python", "x"), "python"),  # the kernelspec's language when the kernel says none
])
def test_the_language_is_the_first_with_a_syntax(names: tuple[str | None, ...],
                                                 found: str) -> None:
    assert syntax_for(*names)[0] == found


def test_a_language_without_a_syntax_is_named_in_the_error() -> None:
    with pytest.raises(BridgeError) as error:
        syntax_for("typescript", "typescript", "deno")
    assert error.value.code == ErrorCode.INVALID_PARAMS
    assert "cannot be written in typescript" in error.value.message
    assert "python, R, julia, scala, bash" in error.value.message


# values where papermill's translators and ours write the same text
AS_PAPERMILL: dict[str, Any] = {
    "count": 3, "big": 2**40, "negative": -7, "ratio": 0.25, "yes": True, "no": False,
    "name": 'say "hi"', "path": "C:\\temp", "lines": "a\nb",
    "items": [1, "two", 3.5, False], "nested": {"k": [1, 2], "s": "v"},
}
NO_MAPPINGS = {"bash"}


@pytest.mark.parametrize("language", ["python", "R", "julia", "scala", "bash"])
def test_each_language_writes_values_as_papermill_does(language: str) -> None:
    values = dict(AS_PAPERMILL)
    if language in NO_MAPPINGS:
        del values["nested"]
    if language != "bash":  # papermill's bash has no nothing; ours writes ''
        values["nothing"] = None
    ours = parameters_source(values, language)
    theirs = translate_parameters(language, language, values)
    if language == "python":  # papermill formats Python with black, when installed
        namespace: dict[str, Any] = {}
        exec(ours, namespace)
        assert {name: namespace[name] for name in values} == values
        return
    assert ours == theirs


@pytest.mark.parametrize(("language", "expected"), [
    ("python", ["float('nan')", "float('inf')", "float('-inf')"]),
    ("R", ["NaN", "Inf", "-Inf"]),
    ("julia", ["NaN", "Inf", "-Inf"]),
    ("scala", ["Double.NaN", "Double.PositiveInfinity", "Double.NegativeInfinity"]),
])
def test_non_finite_floats_in_each_language(language: str, expected: list[str]) -> None:
    source = parameters_source({"a": math.nan, "b": math.inf, "c": -math.inf}, language)
    assert [line.rsplit(" = ", 1)[1] for line in source.splitlines()[1:]] == expected


def test_strings_keep_non_ascii_and_escape_what_the_language_needs() -> None:
    assert parameters_source({"s": "café ☃"}, "R").splitlines()[1] == 's = "café ☃"'
    # Julia would interpolate $name
    assert parameters_source({"s": "$HOME"}, "julia").splitlines()[1] == 's = "\\$HOME"'
    assert parameters_source({"s": "it's $x"}, "bash").splitlines()[1] == \
        "s='it'\"'\"'s $x'"


def test_language_specific_names_and_types() -> None:
    assert parameters_source({"_private": 1}, "R").splitlines()[1] == "private = 1"
    assert parameters_source({"n": 2**40}, "scala").splitlines()[1] == "val n = 1099511627776L"
    assert parameters_source({"n": None}, "bash").splitlines()[1] == "n=''"
    with pytest.raises(BridgeError) as error:
        parameters_source({"m": {"a": 1}}, "bash")
    assert error.value.message == "parameter 'm': bash parameters cannot hold a mapping"
    with pytest.raises(BridgeError) as error:
        parameters_source({"é": 1}, "bash")
    assert "not a bash identifier" in error.value.message


def test_the_cell_is_written_in_the_language_given() -> None:
    notebook = python_notebook(code("n <- 1", PARAMETERS_TAG))
    inject_parameters(notebook, {"n": 3, "flag": True}, "R")
    assert notebook["cells"][1]["source"] == "# Parameters\nn = 3\nflag = TRUE\n"


def test_yaml_files_keep_their_types(tmp_path: Path) -> None:
    path = tmp_path / "params.yaml"
    path.write_text("n: 3\nratio: 0.5\nname: '3'\nflag: true\nnothing: null\n"
                    "items: [1, b]\nmapping: {k: v}\n")
    assert read_parameter_file(path) == {
        "n": 3, "ratio": 0.5, "name": "3", "flag": True, "nothing": None,
        "items": [1, "b"], "mapping": {"k": "v"}}
    (tmp_path / "empty.yaml").write_text("")
    assert read_parameter_file(tmp_path / "empty.yaml") == {}


@pytest.mark.parametrize(("text", "expected"), [
    ("- a\n- b\n", "must map parameter names to values"),
    ("a: [1\n", "is not valid YAML"),
    (None, "cannot read parameter file"),
])
def test_a_bad_yaml_file_is_named(tmp_path: Path, text: str | None, expected: str) -> None:
    path = tmp_path / "params.yaml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(BridgeError) as error:
        read_parameter_file(path)
    assert expected in error.value.message and str(path) in error.value.message


def test_a_bad_name_leaves_the_notebook_as_it_was() -> None:
    notebook = python_notebook(code("a = 1", PARAMETERS_TAG))
    with pytest.raises(BridgeError):
        inject_parameters(notebook, {"ok": 1, "not ok": 2})
    assert notebook["cells"] == [code("a = 1", PARAMETERS_TAG)]
