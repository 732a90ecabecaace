"""The split schema check agrees with nbformat's whole-schema check on every notebook."""

from __future__ import annotations

import concurrent.futures
import copy
import itertools
import os
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nbformat import validator

from bridge.notebook import validation
from bridge.notebook.validation import SchemaCheck, _is_valid, validation_warnings

from codec.helpers import parseable_v4

EXAMPLES = int(os.environ.get("NBBRIDGE_FUZZ_EXAMPLES", "2000")) // 4
NOTEBOOKS = [orjson.loads(path.read_bytes()) for path in parseable_v4()
             if path.stat().st_size < 300_000]


def whole_schema_says_valid(top: dict[str, Any], minor: int) -> bool:
    try:
        validator.get_validator(4, minor, name="fastjsonschema").validate(top)
    except Exception:
        return False
    return True


def test_agrees_on_every_corpus_notebook_at_every_minor() -> None:
    invalid = 0
    for top in NOTEBOOKS:
        for minor in range(6):
            expected = whole_schema_says_valid(top, minor)
            assert _is_valid(top, minor) == expected, (top.get("metadata"), minor)
            invalid += not expected
    assert invalid > 0 and len(NOTEBOOKS) > 100  # both verdicts were exercised


def test_an_invalid_output_is_still_reported_at_its_cell() -> None:
    top = copy.deepcopy(next(nb for nb in NOTEBOOKS if whole_schema_says_valid(nb, 4) and any(
        cell.get("outputs") for cell in nb["cells"])))
    at, cell = next((i, c) for i, c in enumerate(top["cells"]) if c.get("outputs"))
    cell["outputs"][0]["output_type"] = "stream"
    cell["outputs"][0].pop("name", None)
    warnings = validation_warnings(top)
    assert any(line.startswith(f"schema: notebook.cells[{at}]") for line in warnings), warnings


PATHS = st.lists(st.integers(0, 1000), min_size=1, max_size=5)
CHANGES = st.sampled_from(["delete", "null", "number", "string", "list", "extra",
                           "markdown", "code", "raw", "stream", "bogus"])


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(0, len(NOTEBOOKS) - 1), st.lists(st.tuples(PATHS, CHANGES), max_size=4),
       st.integers(0, 5), st.lists(st.integers(0, 200), max_size=6))
def test_agrees_on_mutated_notebooks(index: int, changes: list[tuple[list[int], str]],
                                     minor: int, cuts: list[int]) -> None:
    """Also when the cells are checked in parts, as a reader sending them in parts does."""
    top = copy.deepcopy(NOTEBOOKS[index])
    for path, change in changes:
        _mutate(top, path, change)
    expected = whole_schema_says_valid(top, minor)
    assert _is_valid(top, minor) == expected
    cells = top.get("cells")
    cells = cells if isinstance(cells, list) else []
    in_parts = SchemaCheck(top, minor)
    bounds = [0, *sorted(cut % (len(cells) + 1) for cut in cuts), len(cells)]
    for start, end in itertools.pairwise(bounds):
        in_parts.check_cells(cells[start:end])
    assert in_parts.valid == expected


def _mutate(node: Any, path: list[int], change: str) -> None:
    """Walk down `path` (each step picks a member by index) and change what is there."""
    for step in path[:-1]:
        children = list(node.values()) if isinstance(node, dict) else node
        if not isinstance(children, list) or not children or not isinstance(
                children[step % len(children)], (dict, list)):
            break
        node = children[step % len(children)]
    if isinstance(node, dict) and node:
        key = list(node)[path[-1] % len(node)]
        values = {"null": None, "number": 3, "string": "x", "list": [], "markdown": "markdown",
                  "code": "code", "raw": "raw", "stream": "stream", "bogus": "bogus"}
        if change == "delete":
            del node[key]
        elif change == "extra":
            node["extra_member"] = 1
        else:
            node[key] = values[change]
    elif isinstance(node, list) and node and change == "delete":
        del node[path[-1] % len(node)]


@pytest.mark.parametrize("value", ["x", ["a\n", "b"], [], ["a", 1], [["a"]], 1, None, {}])
@pytest.mark.parametrize("minor", [0, 4, 5])
def test_multiline_strings_of_every_shape_agree(value: Any, minor: int) -> None:
    """Sources, stream text and output data are string-or-list-of-strings."""
    cell = {"cell_type": "code", "metadata": {}, "execution_count": 1,
            **({"id": "a"} if minor >= 5 else {}), "source": value, "outputs": [
                {"output_type": "stream", "name": "stdout", "text": value},
                {"output_type": "display_data", "metadata": {},
                 "data": {"text/plain": value, "application/json": value}}]}
    top = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": minor}
    expected = isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(line, str) for line in value))
    assert whole_schema_says_valid(top, minor) == expected
    assert _is_valid(top, minor) == expected


@pytest.mark.parametrize("minor", [4, 5])
def test_unknown_cell_type_is_invalid(minor: int) -> None:
    top = {"cells": [{"cell_type": "bogus", "metadata": {}, "source": "", "id": "a"}],
           "metadata": {}, "nbformat": 4, "nbformat_minor": minor}
    assert not _is_valid(top, minor)
    assert not whole_schema_says_valid(top, minor)


def test_the_check_is_compiled_once_whoever_asks_first() -> None:
    validation._compiled_check.cache_clear()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        checks = list(pool.map(lambda _: validation._typed_check(5), range(4)))
        pool.submit(validation.prepare).result()
    assert all(check is checks[0] for check in checks)
    # prepare compiled the six nbformat 4 minor versions, the asked one among them once
    assert validation._compiled_check.cache_info().misses == 6
    assert validation._typed_check(5) is checks[0]
