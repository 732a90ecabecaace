"""nbformat schema validation, reported as warnings: Jupyter opens invalid notebooks too."""

from __future__ import annotations

import copy
import functools
import importlib.resources
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import fastjsonschema
import nbformat.v4
import orjson
from nbformat import validator

_MAX_MESSAGE = 300
_compiling = threading.Lock()
_MULTILINE_ONE_OF = {"oneOf": [{"type": "string"},
                               {"type": "array", "items": {"type": "string"}}]}


def validation_warnings(top: dict[str, Any]) -> list[str]:
    """Every schema problem of a v4 notebook, one line each (none for a valid one)."""
    return _checked_whole(top).warnings()


class SchemaCheck:
    """The nbformat schema check of one v4 notebook, given its cells in as many parts as
    suits the caller (a reader sending cells to the client checks each part meanwhile):
    the top level is checked at once, each cell when given; `warnings` once all were."""

    def __init__(self, top: dict[str, Any], schema_minor: int | None = None) -> None:
        minor = top.get("nbformat_minor") if schema_minor is None else schema_minor
        minor = minor if isinstance(minor, int) and not isinstance(minor, bool) else 0
        self._top = top
        self._newer = minor > 5
        self._minor = min(max(minor, 0), 5)
        self._check: _TypedCheck | None = None
        try:
            self._check = _typed_check(self._minor)
        except (LookupError, TypeError, ValueError):  # a schema of another shape: whole
            self.valid = _whole_schema_valid(top, self._minor)
        else:
            self.valid = _passes(self._check.top, top)

    def check_cells(self, cells: list[Any]) -> None:
        """Check these cells of the notebook (each one once)."""
        if self.valid and self._check is not None:
            self.valid = _passes(self._check.cells, cells)

    def warnings(self) -> list[str]:
        warnings = []
        if self._newer:
            warnings.append(f"nbformat 4.{self._top.get('nbformat_minor')} is newer than "
                            "4.5: it is checked against the 4.5 schema")
        if not self.valid:
            warnings.extend(_all_errors(self._top, self._minor))
        warnings.extend(_duplicate_ids(self._top, self._minor))
        return warnings


def _passes(check: Callable[[Any], None], value: Any) -> bool:
    try:
        check(value)
    except Exception:
        return False
    return True


def _checked_whole(top: dict[str, Any], schema_minor: int | None = None) -> SchemaCheck:
    check = SchemaCheck(top, schema_minor)
    cells = top.get("cells")
    check.check_cells(cells if isinstance(cells, list) else [])
    return check


def _is_valid(top: dict[str, Any], minor: int) -> bool:
    return _checked_whole(top, minor).valid


def _whole_schema_valid(top: dict[str, Any], minor: int) -> bool:
    whole = validator.get_validator(4, minor, name="fastjsonschema")
    return whole is not None and _passes(whole.validate, top)


def prepare() -> None:
    """Compile the checks ahead of the first notebook opened: the newest version's
    first, then the older ones (most of their kinds are shared)."""
    for minor in range(5, -1, -1):
        _typed_check(minor)


@dataclass(frozen=True)
class _TypedCheck:
    top: Callable[[dict[str, Any]], None]
    cells: Callable[[list[Any]], None]


def _typed_check(minor: int) -> _TypedCheck:
    with _compiling:  # one compilation per minor, whichever thread asks first
        return _compiled_check(minor)


@functools.cache
def _compiled_check(minor: int) -> _TypedCheck:
    """The schema's check, split by `cell_type` and `output_type`.

    The schema says a cell is oneOf raw/markdown/code and an output oneOf four kinds, each
    kind fixed by its type member; so a notebook is valid exactly when its top level is
    valid with the cells left out, and each cell (and output) is valid against the one
    kind its type names. Checking one kind instead of trying every branch of each oneOf
    is much faster on a large notebook. Each check raises on what is invalid.
    """
    name = nbformat.v4.nbformat_schema[(4, minor)]
    schema = orjson.loads((importlib.resources.files("nbformat.v4") / name).read_bytes())
    definitions = schema["definitions"]
    misc = definitions.get("misc", {})
    if misc.get("multiline_string") == _MULTILINE_ONE_OF:
        # The same two disjoint types as one type list: fastjsonschema then raises no
        # exception for the branch that does not match (a fifth of the check's time).
        misc["multiline_string"] = {"type": ["string", "array"], "items": {"type": "string"}}

    def kinds(union: str, member: str) -> dict[str, Callable[[Any], Any]]:
        found = {}
        for choice in definitions[union]["oneOf"]:
            definition = copy.deepcopy(definitions[choice["$ref"].rsplit("/", 1)[1]])
            (kind,) = definition["properties"][member]["enum"]
            if "outputs" in definition["properties"]:
                definition["properties"]["outputs"] = {"type": "array"}
            found[kind] = _compiled(definition, definitions)
        return found

    top_schema = copy.deepcopy(schema)
    top_schema["properties"]["cells"] = {"type": "array"}
    cell_kinds, output_kinds = kinds("cell", "cell_type"), kinds("output", "output_type")

    def check_cells(cells: list[Any]) -> None:
        for cell in cells:
            cell_kinds[cell["cell_type"]](cell)
            for output in cell.get("outputs", ()) if cell["cell_type"] == "code" else ():
                output_kinds[output["output_type"]](output)

    return _TypedCheck(_compiled(top_schema, top_schema.pop("definitions")), check_cells)


def _compiled(schema: dict[str, Any], definitions: dict[str, Any]) -> Callable[[Any], Any]:
    """fastjsonschema's check of `schema` with the definitions it refers to. Most kinds
    are the same in several schema versions: each is compiled once."""
    used: dict[str, Any] = {}
    pending = [schema]
    while pending:
        for name in _references(pending.pop()):
            if name not in used and name in definitions:
                used[name] = definitions[name]
                pending.append(definitions[name])
    return _compile_cached(orjson.dumps({**schema, "definitions": used},
                                        option=orjson.OPT_SORT_KEYS))


@functools.cache
def _compile_cached(schema: bytes) -> Callable[[Any], Any]:
    check: Callable[[Any], Any] = fastjsonschema.compile(orjson.loads(schema))
    return check


def _references(value: Any) -> list[str]:
    """The top-level definitions `value` refers to (`#/definitions/<name>/...`)."""
    found: list[str] = []
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            found.append(ref.split("/")[2])
        for item in value.values():
            found.extend(_references(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_references(item))
    return found


def _all_errors(top: dict[str, Any], minor: int) -> list[str]:
    full = validator.get_validator(4, minor, name="jsonschema")
    if full is None:
        return ["the notebook does not match the nbformat schema"]
    found = []
    for error in sorted(full.iter_errors(top), key=lambda e: list(map(str, e.path))):
        where = _path(error.path)
        message = error.message
        if len(message) > _MAX_MESSAGE:
            message = message[:_MAX_MESSAGE] + "…"
        found.append(f"schema: {where}: {message}")
    return found or ["the notebook does not match the nbformat schema"]


def _duplicate_ids(top: dict[str, Any], minor: int) -> list[str]:
    cells = top.get("cells")
    if minor < 5 or not isinstance(cells, list):
        return []
    ids = Counter(c.get("id") for c in cells if isinstance(c, dict) and "id" in c)
    return [f"cell id {cell_id!r} is used by {count} cells; ids must be unique"
            for cell_id, count in ids.items() if count > 1]


def _path(path: Any) -> str:
    text = "notebook"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text
