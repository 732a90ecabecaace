"""Reading an .ipynb file into the bridge's notebook object, keeping what saving needs.

The notebook object is the file's own top-level object with two changes: each cell has
`kind` and `source` as one string, and a `codec` member (notebook and, where needed,
cell) carries the file's layout. Reading checks that writing the untouched notebook
gives back the very same text; wherever it would not (a float written another way, an
odd escape, a stray space), the original text of that part rides along verbatim.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import nbformat
import orjson

from bridge.errors import BridgeError, ErrorCode
from bridge.notebook import layout
from bridge.notebook.store import NotebookStore
from bridge.notebook.style import Encoder, FileStyle, detect_style
from bridge.notebook.validation import SchemaCheck
from bridge.notebook.writing import (
    CELL_DEFAULTS,
    CELL_KINDS,
    file_cell,
    file_top,
    keep_outputs,
    remember_texts,
)


def parse_json(data: str | bytes) -> Any:
    """Parse the file (text, or UTF-8 bytes), or raise an error naming what is wrong and
    where."""
    if not data[:4096].strip() and not data.strip():
        raise BridgeError(ErrorCode.NOT_JSON, "the notebook file is empty")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        try:  # Python's json also takes lone surrogates (but not NaN or Infinity)
            return json.loads(data, parse_constant=_refuse_constant)
        except (json.JSONDecodeError, ValueError):
            pass
        what = exc.msg.split(": line")[0]
        raise BridgeError(
            ErrorCode.NOT_JSON,
            f"not valid JSON at line {exc.lineno}, column {exc.colno}: {what}",
            {"line": exc.lineno, "column": exc.colno, "offset": exc.pos},
        ) from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def read_notebook(text: str | bytes, store: NotebookStore,
                  defer_check: bool = False) -> Reading:
    """The `notebook/deserialize` result for the file `text` (a str, or UTF-8 bytes).

    With `defer_check`, the check that writing gives back the same text (and the
    caching of each cell's text for saving) is left to `Reading.finish`, to run after
    the result has gone out: for large files it costs as much as parsing.
    """
    opened = open_file(text, store)
    reading = opened.reading(opened.transfer(opened.file_cells))
    if not defer_check:
        reading.finish(record=True)
    return reading


def open_file(text: str | bytes, store: NotebookStore) -> OpenedFile:
    """Parse the file and learn its layout; raise a clear error if it is no notebook."""
    top = parse_json(text)
    if not isinstance(top, dict):
        raise BridgeError(
            ErrorCode.NOT_A_NOTEBOOK,
            f"not a Jupyter notebook: the file holds a JSON {_json_kind(top)}, not an object",
        )
    major = top.get("nbformat")
    if not isinstance(major, int) or isinstance(major, bool):
        raise BridgeError(
            ErrorCode.NOT_A_NOTEBOOK,
            "not a Jupyter notebook: the top-level object has no integer 'nbformat' member",
        )
    if major > 4:
        raise BridgeError(
            ErrorCode.NOT_A_NOTEBOOK, f"nbformat {major} is newer than this bridge reads (4)"
        )
    if major < 4:
        warning = (f"This notebook is nbformat {major}; it was upgraded to nbformat 4 and "
                   "will be saved as nbformat 4.")
        return OpenedFile(store, _upgrade(text, major), FileStyle(), [warning], None)
    return OpenedFile(store, top, detect_style(text, top), [], text)


class OpenedFile:
    """A parsed notebook file on its way to the client, which may take its cells in parts:
    each part is checked against the schema as it is made."""

    def __init__(self, store: NotebookStore, top: dict[str, Any], style: FileStyle,
                 warnings: list[str], text: str | bytes | None) -> None:
        self.store = store
        self.top = top
        self.style = style
        self.warnings = warnings
        self._text = text  # kept for the layout check; None once upgraded from v3
        cells = top.get("cells")
        self.file_cells: list[Any] = cells if isinstance(cells, list) else []
        self._schema = SchemaCheck(top)
        minor = top.get("nbformat_minor")
        # a file upgraded from v3 had no ids: it is not told that its cells lack them
        self._with_ids = text is not None and isinstance(minor, int) and minor >= 5

    def transfer(self, file_cells: list[Any]) -> list[dict[str, Any]]:
        """These cells of the file as the client sees them, checked against the schema
        (give each cell once)."""
        self._schema.check_cells(file_cells)
        new_token = self.store.new_outputs_token
        return [to_transfer_cell(cell, self.style.source_as_list, self._with_ids, new_token)
                for cell in file_cells]

    def reading(self, transfer_cells: list[dict[str, Any]]) -> Reading:
        """The whole result, given every cell in its client form; the warnings name
        every schema problem."""
        notebook: dict[str, Any] = {}
        for key, value in self.top.items():
            notebook[key] = transfer_cells if key == "cells" else value
        notebook.setdefault("cells", transfer_cells)
        notebook["codec"] = {"style": self.style.to_json()}
        warnings = self.warnings + self._schema.warnings()
        return Reading(self.store, {"notebook": notebook, "warnings": warnings}, self._text)


class Reading:
    """A read notebook, and the check of its layout (now or later)."""

    def __init__(self, store: NotebookStore, result: dict[str, Any],
                 text: str | bytes | None) -> None:
        self.store = store
        self.result = result
        self._text = text
        self._finished = False

    def finish(self, record: bool = False) -> None:
        """Keep the outputs, check the layout and cache each cell's text; with `record`,
        also put the original text of every part that would be written differently into
        `codec`."""
        if self._finished:
            return
        self._finished = True
        keep_outputs(self.store, self.result["notebook"])
        data, self._text = self._text, None
        if data is None:
            return
        notebook = self.result["notebook"]
        cells: list[dict[str, Any]] = notebook["cells"]
        style = FileStyle.from_json(notebook["codec"]["style"])
        with_ids = isinstance(notebook.get("nbformat_minor"), int) and (
            notebook["nbformat_minor"] >= 5)
        used: set[str] = set()
        rebuilt = [file_cell(cell, index, style, with_ids, used)
                   for index, cell in enumerate(cells)]
        top = file_top(notebook, style, has_codec=True)
        verified = layout.verify(data, top, rebuilt, Encoder(style))
        if record:
            _record(verified, notebook)
        remember_texts(self.store, notebook, verified)


def _record(verified: layout.Verified, notebook: dict[str, Any]) -> None:
    found: dict[str, Any] = {}
    for name in ("head", "tail", "whole"):
        difference = getattr(verified, name)
        if difference is not None:
            found["file" if name == "whole" else name] = layout.verbatim_record(*difference)
    if found:
        notebook["codec"]["verbatim"] = found
    for cell, piece, original, before in zip(notebook["cells"], verified.pieces,
                                             verified.originals, verified.befores,
                                             strict=True):
        record: dict[str, Any] = {}
        if original is not None:
            record.update(layout.verbatim_record(original, piece))
        if before is not None:
            record["before"] = before
        if record:
            cell.setdefault("codec", {})["verbatim"] = record


def to_transfer_cell(cell: Any, source_as_list: bool, with_ids: bool,
                     new_token: Callable[[], str]) -> dict[str, Any]:
    """A file cell as the client sees it: `kind`, one-string `source`, the rest as is."""
    if not isinstance(cell, dict) or not isinstance(cell.get("source", ""), (str, list)):
        # Not a cell Jupyter could show: keep it whole, show its JSON as a raw cell.
        return {"kind": "raw", "source": orjson.dumps(cell).decode(), "metadata": {},
                "codec": {"opaque": cell}}
    cell_type = cell.get("cell_type")
    source = cell.get("source", "")
    codec: dict[str, Any] = {}
    if isinstance(source, list):
        if not all(isinstance(line, str) for line in source):
            return {"kind": "raw", "source": orjson.dumps(cell).decode(), "metadata": {},
                    "codec": {"opaque": cell}}
        joined = "".join(source)
        if joined.splitlines(True) != source:
            codec["lines"] = source
    else:
        joined = source
    transfer: dict[str, Any] = {
        "kind": cell_type if cell_type in CELL_KINDS else "raw",
        "source": joined,
    }
    if cell_type not in CELL_KINDS:
        codec["cellType"] = cell_type
    for key, value in cell.items():
        if key not in ("cell_type", "source"):
            transfer[key] = value
    if isinstance(source, list) != source_as_list:
        codec["source"] = "list" if isinstance(source, list) else "string"
    if "source" not in cell:
        codec["noSource"] = True
    if with_ids and "id" not in cell:
        codec["noId"] = True
    absent = [key for key in CELL_DEFAULTS.get(str(cell_type), ()) if key not in cell]
    if absent:
        codec["absent"] = absent
    if cell_type == "code" and isinstance(cell.get("outputs"), list) and cell["outputs"]:
        codec["outputs"] = new_token()  # saving may send this instead of them
    if codec:
        transfer["codec"] = codec
    return transfer


def _upgrade(data: str | bytes, major: int) -> dict[str, Any]:
    text = data if isinstance(data, str) else data.decode("utf-8", "surrogatepass")
    try:
        node = nbformat.reads(text, as_version=4)
    except Exception as exc:
        raise BridgeError(
            ErrorCode.NOT_A_NOTEBOOK, f"cannot upgrade this nbformat {major} notebook: {exc}"
        ) from None
    upgraded: dict[str, Any] = orjson.loads(orjson.dumps(node))
    return upgraded


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return "number"
