"""`-p NAME VALUE` parameters: typing the values, writing the cell, placing it."""

from __future__ import annotations

import math
from typing import Any

import pytest

from bridge.errors import BridgeError, ErrorCode
from bridge.headless.parameters import (
    INJECTED_TAG,
    PARAMETERS_TAG,
    inject_parameters,
    notebook_language,
    parameters_source,
    typed_value,
)


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
    source = parameters_source([("alpha", "0.5"), ("name", "it's \"here\""), ("flag", "True"),
                                ("count", "3"), ("nothing", "None")])
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
    source = parameters_source([("a", "nan"), ("b", "inf"), ("c", "-inf")])
    assert "a = float('nan')" in source
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # `a = nan` would be a NameError
    assert math.isnan(namespace["a"])
    assert namespace["b"] == math.inf and namespace["c"] == -math.inf


def test_no_parameters_is_just_the_heading() -> None:
    assert parameters_source([]) == "# Parameters\n"


@pytest.mark.parametrize("name", ["1st", "with space", "a-b", "", "x.y"])
def test_a_name_that_is_no_identifier_is_refused(name: str) -> None:
    with pytest.raises(BridgeError) as error:
        parameters_source([("fine", "1"), (name, "2")])
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
    assert inject_parameters(notebook, [("a", "2")]) == 2
    cells = notebook["cells"]
    assert [c["source"] for c in cells] == ["import x", "a = 1", "# Parameters\na = 2\n",
                                            "print(a)"]
    assert cells[2] == {"kind": "code", "source": "# Parameters\na = 2\n",
                        "metadata": {"tags": [INJECTED_TAG]}, "execution_count": None,
                        "outputs": []}


def test_only_the_first_parameters_cell_counts() -> None:
    notebook = python_notebook(code("a = 1", PARAMETERS_TAG), code("b = 1", PARAMETERS_TAG))
    assert inject_parameters(notebook, [("a", "2")]) == 1


def test_without_a_parameters_cell_it_comes_first() -> None:
    notebook = python_notebook(code("print(a)"), code("x = 1", "parameter"))
    assert inject_parameters(notebook, [("a", "2")]) == 0
    assert notebook["cells"][0]["metadata"]["tags"] == [INJECTED_TAG]
    assert len(notebook["cells"]) == 3


def test_a_previous_runs_cell_is_replaced_where_it_is() -> None:
    notebook = python_notebook(code("a = 1", PARAMETERS_TAG), code("print(a)"),
                               code("# Parameters\na = 5\n", INJECTED_TAG), code("end"))
    assert inject_parameters(notebook, [("a", "7")]) == 2
    assert [c["source"] for c in notebook["cells"]] == [
        "a = 1", "print(a)", "# Parameters\na = 7\n", "end"]
    assert inject_parameters(notebook, [("b", "8")]) == 2  # and again: still one
    assert len(notebook["cells"]) == 4
    assert notebook["cells"][2]["source"] == "# Parameters\nb = 8\n"


def test_a_notebook_without_cells_gets_one() -> None:
    notebook: dict[str, Any] = {"metadata": {}}
    assert inject_parameters(notebook, [("a", "1")]) == 0
    assert [c["source"] for c in notebook["cells"]] == ["# Parameters\na = 1\n"]


@pytest.mark.parametrize("metadata, language", [
    ({"kernelspec": {"language": "python"}}, "python"),
    ({"kernelspec": {"language": "Python"}}, "python"),
    ({"kernelspec": {"language": "R"}, "language_info": {"name": "python"}}, "r"),
    ({"kernelspec": {"name": "ir"}, "language_info": {"name": "R"}}, "r"),
    ({"kernelspec": {"language": ""}, "language_info": {"name": "julia"}}, "julia"),
    ({"language_info": {"name": "julia"}}, "julia"),
    ({}, "python"),
    ({"kernelspec": "python3", "language_info": ["R"]}, "python"),
    ("not an object", "python"),
])
def test_the_language_comes_from_the_kernelspec_then_language_info(
        metadata: Any, language: str) -> None:
    assert notebook_language({"metadata": metadata, "cells": []}) == language


def test_parameters_are_refused_for_a_notebook_in_another_language() -> None:
    notebook = {"metadata": {"kernelspec": {"language": "R"}}, "cells": [code("x <- 1")]}
    with pytest.raises(BridgeError) as error:
        inject_parameters(notebook, [("x", "2")])
    assert error.value.code == ErrorCode.INVALID_PARAMS
    assert error.value.message.endswith("this notebook's language is r")
    assert notebook["cells"] == [code("x <- 1")]  # nothing was added


def test_a_bad_name_leaves_the_notebook_as_it_was() -> None:
    notebook = python_notebook(code("a = 1", PARAMETERS_TAG))
    with pytest.raises(BridgeError):
        inject_parameters(notebook, [("ok", "1"), ("not ok", "2")])
    assert notebook["cells"] == [code("a = 1", PARAMETERS_TAG)]
