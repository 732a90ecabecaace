"""Papermill-style parameters: `-p NAME VALUE` becomes a cell after the `parameters` cell.

As papermill does: the injected code cell is tagged `injected-parameters`, comes right
after the first cell tagged `parameters` (or first in the notebook when none is), and
replaces the cell a previous run injected. Values are typed the way papermill's `-p`
types them: True / False / None, then int, then float, else the string as given.
"""

from __future__ import annotations

import math
from typing import Any

from bridge.errors import BridgeError, ErrorCode

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"

Value = bool | int | float | str | None


def typed_value(text: str) -> Value:
    """A `-p` value as papermill reads it from the command line."""
    constants: dict[str, Value] = {"True": True, "False": False, "None": None}
    if text in constants:
        return constants[text]
    for kind in (int, float):
        try:
            number: Value = kind(text)
        except ValueError:
            continue
        return number
    return text


def parameters_source(parameters: list[tuple[str, str]]) -> str:
    """The injected cell's Python code."""
    lines = ["# Parameters"]
    for name, text in parameters:
        if not name.isidentifier():
            raise BridgeError(ErrorCode.INVALID_PARAMS,
                              f"parameter name {name!r} is not a Python identifier")
        lines.append(f"{name} = {_python_literal(typed_value(text))}")
    return "\n".join(lines) + "\n"


def _python_literal(value: Value) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"  # repr gives nan / inf, which are no Python literals
    return repr(value)


def inject_parameters(notebook: dict[str, Any], parameters: list[tuple[str, str]]) -> int:
    """Add (or replace) the injected-parameters cell; returns its index."""
    language = notebook_language(notebook)
    if language != "python":
        raise BridgeError(ErrorCode.INVALID_PARAMS,
                          f"-p parameters are written as Python; this notebook's language is "
                          f"{language}")
    cells: list[dict[str, Any]] = notebook.setdefault("cells", [])
    cell: dict[str, Any] = {"kind": "code", "source": parameters_source(parameters),
            "metadata": {"tags": [INJECTED_TAG]}, "execution_count": None, "outputs": []}
    injected = _first_tagged(cells, INJECTED_TAG)
    if injected is not None:
        cells[injected] = cell
        return injected
    tagged = _first_tagged(cells, PARAMETERS_TAG)
    position = 0 if tagged is None else tagged + 1
    cells.insert(position, cell)
    return position


def notebook_language(notebook: dict[str, Any]) -> str:
    """The notebook's kernel language from its metadata (python when it names none)."""
    metadata = notebook.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    for key in ("kernelspec", "language_info"):
        section = metadata.get(key)
        if isinstance(section, dict):
            name = section.get("language" if key == "kernelspec" else "name")
            if isinstance(name, str) and name:
                return name.lower()
    return "python"


def _first_tagged(cells: list[dict[str, Any]], tag: str) -> int | None:
    for index, cell in enumerate(cells):
        metadata = cell.get("metadata")
        tags = metadata.get("tags") if isinstance(metadata, dict) else None
        if isinstance(tags, list) and tag in tags:
            return index
    return None
