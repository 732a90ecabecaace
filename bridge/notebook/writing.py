"""Writing the bridge's notebook object back to .ipynb text, in the file's own layout.

A notebook that came from `notebook/deserialize` and was not changed comes back byte for
byte; a changed cell changes only its own lines. A notebook with no `codec` (a new one)
is written the way nbformat 4.5 writes: indent 1, sorted keys, cell ids, final newline.
"""

from __future__ import annotations

from typing import Any

from nbformat.corpus.words import generate_corpus_id

from bridge.notebook import layout
from bridge.notebook.style import CANONICAL, Encoder, FileStyle
from bridge.protocol import BridgeError, ErrorCode

CELL_KINDS = ("code", "markdown", "raw")
_CELL_DEFAULTS: dict[str, dict[str, Any]] = {
    "code": {"execution_count": None, "metadata": {}, "outputs": []},
    "markdown": {"metadata": {}},
    "raw": {"metadata": {}},
}


def write_notebook(notebook: Any) -> str:
    """The file text for a notebook object (the `notebook/serialize` result)."""
    if not isinstance(notebook, dict):
        raise BridgeError(ErrorCode.INVALID_PARAMS, "'notebook' must be an object")
    cells = notebook.get("cells", [])
    if not isinstance(cells, list):
        raise BridgeError(ErrorCode.INVALID_PARAMS, "'notebook.cells' must be an array")
    codec = notebook.get("codec")
    codec = codec if isinstance(codec, dict) else {}
    style = FileStyle.from_json(codec.get("style")) if codec else CANONICAL
    encoder = Encoder(style)
    top = file_top(notebook, style, has_codec=bool(codec))
    with_ids = _minor(top) >= 5
    used_ids: set[str] = set()
    file_cells = [
        file_cell(cell, index, style, with_ids, used_ids) for index, cell in enumerate(cells)
    ]
    verbatim = codec.get("verbatim")
    verbatim = verbatim if isinstance(verbatim, dict) else {}
    head, tail = layout.skeleton(top, bool(file_cells), encoder)
    parts = [layout.use_verbatim(verbatim.get("head"), head)]
    separator = encoder.separator(layout.CELL_DEPTH).decode()
    for index, (cell, file) in enumerate(zip(cells, file_cells, strict=True)):
        piece = encoder.encode(file, layout.CELL_DEPTH).decode()
        record = cell.get("codec", {}).get("verbatim") if isinstance(cell, dict) else None
        record = record if isinstance(record, dict) else {}
        if index:
            before = record.get("before")
            parts.append(before if isinstance(before, str) else separator)
        parts.append(layout.use_verbatim(record, piece))
    parts.append(layout.use_verbatim(verbatim.get("tail"), tail))
    text = "".join(parts)
    return layout.use_verbatim(verbatim.get("file"), text)


def file_top(notebook: dict[str, Any], style: FileStyle, has_codec: bool) -> dict[str, Any]:
    """The file's top-level object, without cells' contents, in the style's key order."""
    top = {key: value for key, value in notebook.items() if key != "codec"}
    if not has_codec:
        top.setdefault("metadata", {})
        top.setdefault("nbformat", 4)
        top.setdefault("nbformat_minor", 5)
    top["cells"] = []
    if style.top_key_order:
        return _ordered(top, style.top_key_order)
    return top


def file_cell(
    cell: Any, index: int, style: FileStyle, with_ids: bool, used_ids: set[str]
) -> dict[str, Any]:
    """One cell as the file holds it, rebuilt from the client's cell object."""
    if not isinstance(cell, dict):
        raise BridgeError(ErrorCode.INVALID_PARAMS, f"cell {index} must be an object")
    kind, source = cell.get("kind"), cell.get("source", "")
    if not isinstance(source, str):
        raise BridgeError(ErrorCode.INVALID_PARAMS, f"cell {index}: 'source' must be a string")
    codec = cell.get("codec")
    codec = codec if isinstance(codec, dict) else {}
    if "opaque" in codec and source == _opaque_text(codec["opaque"]):
        opaque: dict[str, Any] = codec["opaque"]
        return opaque
    if kind not in CELL_KINDS:
        raise BridgeError(
            ErrorCode.INVALID_PARAMS,
            f"cell {index}: 'kind' must be one of {', '.join(CELL_KINDS)}, not {kind!r}",
        )
    cell_type = codec.get("cellType", kind)
    file: dict[str, Any] = {"cell_type": cell_type}
    for key, value in cell.items():
        if key not in ("kind", "source", "codec", "cell_type"):
            file[key] = value
    if not (codec.get("noSource") and source == ""):
        file["source"] = _file_source(source, codec, style)
    if "opaque" not in codec and "cellType" not in codec:
        for key, default in _CELL_DEFAULTS[kind].items():
            if key not in file:
                file[key] = type(default)() if default is not None else None
    if with_ids and "id" not in file and not codec.get("noId"):
        file["id"] = _new_id(used_ids)
    if isinstance(file.get("id"), str):
        used_ids.add(file["id"])
    if style.cell_key_order:
        return _ordered(file, style.cell_key_order)
    return file


def _file_source(source: str, codec: dict[str, Any], style: FileStyle) -> str | list[str]:
    lines = codec.get("lines")
    if isinstance(lines, list) and "".join(map(str, lines)) == source:
        return lines
    as_list = codec.get("source", "list" if style.source_as_list else "string") == "list"
    return source.splitlines(True) if as_list else source


def _opaque_text(value: Any) -> str:
    import orjson

    return orjson.dumps(value).decode()


def _new_id(used: set[str]) -> str:
    while True:
        candidate = generate_corpus_id()
        if candidate not in used:
            return candidate


def _ordered(members: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    ordered = {key: members[key] for key in order if key in members}
    ordered.update((key, value) for key, value in members.items() if key not in ordered)
    return ordered


def _minor(top: dict[str, Any]) -> int:
    minor = top.get("nbformat_minor")
    major = top.get("nbformat")
    if major != 4 or not isinstance(minor, int):
        return 0
    return minor
