"""Papermill-style parameters: `-p NAME VALUE` and `-f FILE.yaml` become a cell of the
kernel's own language after the `parameters` cell.

As papermill does: the injected code cell is tagged `injected-parameters`, comes right
after the first cell tagged `parameters` (or first in the notebook when none is), and
replaces the cell a previous run injected. `-p` values are typed the way papermill's `-p`
types them: True / False / None, then int, then float, else the string as given; values
from YAML keep their YAML types. Each language writes them as papermill's translator for
it does, but for strings (escaped for that language only, non-ASCII kept as it is) and
non-finite floats (the language's own NaN and infinities).
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridge.errors import BridgeError, ErrorCode

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"

Value = bool | int | float | str | None
Parameters = dict[str, Any]  # name -> value (YAML types: lists and dicts too)


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


def read_parameter_file(path: Path) -> Parameters:
    """The parameters in a YAML file: a mapping of names to values."""
    import yaml

    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BridgeError(ErrorCode.FILE_ERROR,
                          f"cannot read parameter file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise BridgeError(ErrorCode.INVALID_PARAMS,
                          f"parameter file {path} is not valid YAML: {exc}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict) or not all(isinstance(key, str) for key in loaded):
        raise BridgeError(ErrorCode.INVALID_PARAMS,
                          f"parameter file {path} must map parameter names to values")
    return dict(loaded)


def check_names(parameters: Mapping[str, Any]) -> None:
    for name in parameters:
        if not name.isidentifier():
            raise BridgeError(ErrorCode.INVALID_PARAMS,
                              f"parameter name {name!r} is not an identifier")


# ------------------------------------------------------------------ languages
def _escaped(text: str, extra: dict[str, str] | None = None) -> str:
    """A double-quoted string with C-style escapes (R, Julia, Scala all read these)."""
    table = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", **(extra or {})}
    body = "".join(table.get(char, char if char.isprintable() or ord(char) > 127
                                 else f"\\u{ord(char):04x}") for char in text)
    return f'"{body}"'


@dataclass(frozen=True)
class Syntax:
    """How one language writes the values parameters can take."""

    comment: str
    assign: Callable[[str, str], str]
    none: str
    true: str
    false: str
    string: Callable[[str], str]
    nonfinite: tuple[str, str, str]  # nan, inf, -inf
    sequence: Callable[[list[str]], str] | None
    mapping: Callable[[list[tuple[str, str]]], str] | None
    integer: Callable[[int], str] = str


def _scala_int(value: int) -> str:
    return f"{value}L" if not -(2**31) <= value < 2**31 else str(value)


def _r_assign(name: str, value: str) -> str:
    return f"{name.lstrip('_')} = {value}"  # papermill's: R names cannot start with _


PYTHON = Syntax(
    "# ", lambda name, value: f"{name} = {value}", "None", "True", "False", repr,
    ("float('nan')", "float('inf')", "float('-inf')"),
    lambda items: f"[{', '.join(items)}]",
    lambda pairs: "{" + ", ".join(f"{key}: {value}" for key, value in pairs) + "}")
R = Syntax(
    "# ", _r_assign, "NULL", "TRUE", "FALSE", _escaped, ("NaN", "Inf", "-Inf"),
    lambda items: f"list({', '.join(items)})",
    lambda pairs: "list(" + ", ".join(f"{key} = {value}" for key, value in pairs) + ")")
JULIA = Syntax(
    "# ", lambda name, value: f"{name} = {value}", "nothing", "true", "false",
    lambda text: _escaped(text, {"$": "\\$"}), ("NaN", "Inf", "-Inf"),
    lambda items: f"[{', '.join(items)}]",
    lambda pairs: "Dict(" + ", ".join(f"{key} => {value}" for key, value in pairs) + ")")
SCALA = Syntax(
    "// ", lambda name, value: f"val {name} = {value}", "None", "true", "false", _escaped,
    ("Double.NaN", "Double.PositiveInfinity", "Double.NegativeInfinity"),
    lambda items: f"Seq({', '.join(items)})",
    lambda pairs: "Map(" + ", ".join(f"{key} -> {value}" for key, value in pairs) + ")",
    _scala_int)
BASH = Syntax(
    "# ", lambda name, value: f"{name}={value}", "''", "true", "false", shlex.quote,
    ("nan", "inf", "-inf"), lambda items: f"({' '.join(items)})", None)

# by kernel language (lower case), then by kernel name, as papermill looks them up
SYNTAXES: dict[str, Syntax] = {
    "python": PYTHON, "r": R, "julia": JULIA, "scala": SCALA, "bash": BASH,
    "pysparkkernel": PYTHON, "sparkkernel": SCALA, "sparkrkernel": R,
}
_BASH_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def syntax_for(*names: str | None) -> tuple[str, Syntax]:
    """The first of `names` (language, kernelspec language, kernel name) with a syntax."""
    for name in names:
        if name and name.lower() in SYNTAXES:
            return name, SYNTAXES[name.lower()]
    given = next((name for name in names if name), "unknown")
    known = "python, R, julia, scala, bash"
    raise BridgeError(ErrorCode.INVALID_PARAMS,
                      f"parameters cannot be written in {given} (the kernel's language); "
                      f"they can in {known}")


def literal(syntax: Syntax, value: Any, language: str) -> str:
    if value is None:
        return syntax.none
    if isinstance(value, bool):  # before int: a bool is an int
        return syntax.true if value else syntax.false
    if isinstance(value, int):
        return syntax.integer(value)
    if isinstance(value, float):
        if math.isnan(value):
            return syntax.nonfinite[0]
        if math.isinf(value):
            return syntax.nonfinite[1 if value > 0 else 2]
        return repr(value)
    if isinstance(value, list | tuple) and syntax.sequence is not None:
        return syntax.sequence([literal(syntax, item, language) for item in value])
    if isinstance(value, dict) and syntax.mapping is not None:
        return syntax.mapping([(syntax.string(str(key)), literal(syntax, item, language))
                               for key, item in value.items()])
    if isinstance(value, list | tuple | dict):
        kind = "a list" if isinstance(value, list | tuple) else "a mapping"
        raise BridgeError(ErrorCode.INVALID_PARAMS,
                          f"{language} parameters cannot hold {kind}")
    return syntax.string(str(value))  # strings, and what else YAML reads (dates)


def parameters_source(parameters: Mapping[str, Any], language: str = "python") -> str:
    """The injected cell's code in `language`."""
    language, syntax = syntax_for(language)
    lines = [f"{syntax.comment}Parameters"]
    for name, value in parameters.items():
        if not name.isidentifier() or (syntax is BASH and not _BASH_NAME.match(name)):
            raise BridgeError(ErrorCode.INVALID_PARAMS,
                              f"parameter name {name!r} is not a {language} identifier")
        try:
            written = literal(syntax, value, language)
        except BridgeError as exc:
            raise BridgeError(ErrorCode.INVALID_PARAMS,
                              f"parameter {name!r}: {exc.message}") from None
        lines.append(syntax.assign(name, written))
    return "\n".join(lines) + "\n"


def inject_parameters(notebook: dict[str, Any], parameters: Mapping[str, Any],
                      language: str = "python") -> int:
    """Add (or replace) the injected-parameters cell; returns its index."""
    cells: list[dict[str, Any]] = notebook.setdefault("cells", [])
    cell: dict[str, Any] = {"kind": "code", "source": parameters_source(parameters, language),
                            "metadata": {"tags": [INJECTED_TAG]}, "execution_count": None,
                            "outputs": []}
    injected = _first_tagged(cells, INJECTED_TAG)
    if injected is not None:
        cells[injected] = cell
        return injected
    tagged = _first_tagged(cells, PARAMETERS_TAG)
    position = 0 if tagged is None else tagged + 1
    cells.insert(position, cell)
    return position


def _first_tagged(cells: list[dict[str, Any]], tag: str) -> int | None:
    for index, cell in enumerate(cells):
        metadata = cell.get("metadata")
        tags = metadata.get("tags") if isinstance(metadata, dict) else None
        if isinstance(tags, list) and tag in tags:
            return index
    return None
