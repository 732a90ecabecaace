"""Writing the bridge's notebook object back to .ipynb text, in the file's own layout.

A notebook that came from `notebook/deserialize` and was not changed comes back byte for
byte; a changed cell changes only its own lines. A notebook with no `codec` (a new one)
is written the way nbformat 4.5 writes: indent 1, sorted keys, cell ids, final newline.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
import pybase64
from nbformat import from_dict
from nbformat.corpus.words import generate_corpus_id
from nbformat.v4.rwbase import split_lines

from bridge.errors import BridgeError, ErrorCode
from bridge.notebook import layout, patching
from bridge.notebook.store import (
    ROLE_CELL,
    ROLE_HEAD,
    ROLE_TAIL,
    NotebookStore,
    OutputsKey,
    cell_key,
)
from bridge.notebook.style import CANONICAL, Encoder, FileStyle

_dumps = orjson.dumps
CELL_KINDS = ("code", "markdown", "raw")
CELL_DEFAULTS: dict[str, dict[str, Any]] = {
    "code": {"execution_count": None, "metadata": {}, "outputs": []},
    "markdown": {"metadata": {}},
    "raw": {"metadata": {}},
}


def write_notebook(notebook: Any, store: NotebookStore) -> str:
    """The file text for a notebook object."""
    parts, whole = _file_parts(notebook, store)
    return layout.use_verbatim(whole, "".join(parts)) if whole else "".join(parts)


def write_notebook_json(notebook: Any, store: NotebookStore) -> list[bytes]:
    """The file text JSON-escaped (what goes between the quotes of the `notebook/serialize`
    result's content), in pieces written out one after another.

    Each part is escaped on its own, instead of joining one large str (which widens to 4
    bytes a character as soon as one emoji appears) and escaping that again; each piece is
    copied out of orjson's buffer, which is sized for the worst case and would stay
    allocated as long as the piece.
    """
    parts, whole = _file_parts(notebook, store)
    if whole:
        parts = [write_notebook(notebook, store)]
    return [bytes(memoryview(_dumps(part))[1:-1]) for part in parts]


def write_notebook_base64(notebook: Any, store: NotebookStore) -> list[bytes]:
    """The file's UTF-8 bytes in base64 (ASCII), in pieces: what a client that writes
    bytes wants."""
    parts, whole = _file_parts(notebook, store)
    if whole:
        text = write_notebook(notebook, store)
        return [pybase64.b64encode(text.encode("utf-8", "surrogatepass"))]
    return base64_pieces(part.encode("utf-8", "surrogatepass") for part in parts)


def base64_pieces(chunks: Iterable[bytes]) -> list[bytes]:
    """The base64 of the chunks one after another, without joining them first: each
    chunk is encoded from a multiple of 3 bytes on, and the 1 or 2 bytes left over go
    with the start of the next."""
    pieces = []
    carry = b""
    for chunk in chunks:
        view = memoryview(chunk)
        if carry:
            take = 3 - len(carry)
            carry += view[:take]
            view = view[take:]
            if len(carry) < 3:
                continue
            pieces.append(pybase64.b64encode(carry))
        whole = len(view) - len(view) % 3
        if whole:
            pieces.append(pybase64.b64encode(view[:whole]))
        carry = bytes(view[whole:])
    if carry:
        pieces.append(pybase64.b64encode(carry))
    return pieces


def _file_parts(notebook: Any, store: NotebookStore) -> tuple[list[str], dict[str, Any] | None]:
    """The file's text in order (head, cells with separators, tail), and the record of a
    whole file kept verbatim, if any."""
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
    verbatim = codec.get("verbatim")
    verbatim = verbatim if isinstance(verbatim, dict) else {}
    style_key = hash(style)
    head, tail = _skeleton_texts(store, top, bool(cells), encoder, verbatim, style_key)
    parts = [head]
    separator = encoder.separator(layout.CELL_DEPTH).decode()
    used_ids: set[str] = set()
    for index, cell in enumerate(cells):
        key = cell_key(ROLE_CELL, style_key, _key_form(store, cell, index))
        known = store.cell_texts.get(key)
        if known is None:
            file = file_cell(_with_outputs(store, cell, index), index, style, with_ids,
                             used_ids)
            _lay_out_new_outputs(store, cell, file, style)
            piece = encoder.encode(file, layout.CELL_DEPTH).decode()
            record = cell.get("codec", {}).get("verbatim")
            record = record if isinstance(record, dict) else {}
            before = record.get("before")
            known = (_kept_text(record, piece, file, encoder),
                     before if isinstance(before, str) else None)
            store.cell_texts.put(key, known)
        text, before = known
        if index:
            parts.append(separator if before is None else before)
        parts.append(text)
    parts.append(tail)
    whole = verbatim.get("file")
    return parts, whole if isinstance(whole, dict) else None


def _kept_text(record: dict[str, Any], piece: str, file: dict[str, Any],
               encoder: Encoder) -> str:
    """A cell kept verbatim: its original text, or (if it changed) that text with the
    changes written in."""
    text = layout.use_verbatim(record, piece)
    original = record.get("text")
    if text is not piece or not isinstance(original, str):
        return text
    indent = encoder.style.indent
    place = patching.Place("", None) if indent is None else patching.Place(
        indent * layout.CELL_DEPTH, indent)
    try:
        return patching.patch(original, file, encoder, place)
    except ValueError:  # not the text of a JSON value: the record is not the codec's
        return piece


def _lay_out_new_outputs(store: NotebookStore, cell: Any, file: dict[str, Any],
                         style: FileStyle) -> None:
    """Outputs that were not read from the file (the cell ran) are written as nbformat
    writes them, multi-line strings as lists of lines, unless the file's outputs are
    written otherwise."""
    outputs = file.get("outputs")
    if not style.outputs_as_list or not isinstance(outputs, list) or not outputs:
        return
    token = _outputs_token(cell)
    stored = None if token is None else store.token_outputs(token)
    if stored is not None and _dumps(outputs) == stored:
        return
    read = set() if stored is None else {_dumps(output) for output in orjson.loads(stored)}
    file["outputs"] = [output if not isinstance(output, dict) or _dumps(output) in read
                       else nbformat_layout(output) for output in outputs]


def nbformat_layout(output: dict[str, Any]) -> dict[str, Any]:
    """One output with its multi-line strings split into lines as nbformat writes them."""
    holder = from_dict({"cells": [{"cell_type": "code", "outputs": [output]}]})
    try:
        split: dict[str, Any] = orjson.loads(_dumps(split_lines(holder).cells[0].outputs[0]))
    except AttributeError:  # no output nbformat knows (the schema check names it)
        return output
    return split


def remember_texts(store: NotebookStore, notebook: dict[str, Any],
                   verified: layout.Verified) -> None:
    """Cache what each part of a just-read notebook is written as, for the next save."""
    style = FileStyle.from_json(notebook["codec"].get("style"))
    style_key = hash(style)
    top = _skeleton_key_source(notebook)
    # a head or tail written as the encoder writes it is not kept; what another file with
    # the same content kept is dropped, or this file would be saved with its layout
    for role, found in ((ROLE_HEAD, verified.head), (ROLE_TAIL, verified.tail)):
        key = cell_key(role, style_key, top)
        if found is None:
            store.cell_texts.discard(key)
        else:
            store.cell_texts.put(key, (found[0], None))
    for index, (cell, piece, original, before) in enumerate(zip(
            notebook["cells"], verified.pieces, verified.originals, verified.befores,
            strict=True)):
        text = piece if original is None else original
        keyed = _key_form(store, cell, index, just_read=True)
        store.cell_texts.put(cell_key(ROLE_CELL, style_key, keyed), (text, before))


def keep_outputs(store: NotebookStore, notebook: dict[str, Any]) -> None:
    """Keep each just-read code cell's outputs under its token, for saves that send the
    token instead."""
    for cell in notebook["cells"]:
        token = _outputs_token(cell)
        if token is not None and isinstance(cell.get("outputs"), list):
            store.remember_outputs(token, _dumps(cell["outputs"]))


def _outputs_token(cell: Any) -> str | None:
    """The token a code cell's outputs were read under, if it carries one."""
    if not isinstance(cell, dict) or cell.get("kind") != "code":
        return None
    codec = cell.get("codec")
    token = codec.get("outputs") if isinstance(codec, dict) else None
    return token if isinstance(token, str) else None


def _key_form(store: NotebookStore, cell: Any, index: int, just_read: bool = False) -> Any:
    """The cell as its text is cached. A cell with an outputs token is keyed by its
    outputs' content instead of the token (new at each read), whether the client sent
    the outputs or only the token; outputs sent in full are keyed by what they are (the
    cell may have run since), except in a cell `just_read`, whose outputs are the ones
    its token was given for."""
    token = _outputs_token(cell)
    if token is None:
        return cell
    key: OutputsKey | None = None
    if "outputs" not in cell or just_read:
        key = store.token_outputs_key(token)
        if key is None and "outputs" not in cell:
            raise _unknown_outputs(token, index)
    if key is None:
        key = store.sent_outputs_key(_dumps(cell["outputs"]), token)
    stripped = {name: value for name, value in cell.items() if name != "outputs"}
    stripped["codec"] = {name: value for name, value in cell["codec"].items()
                         if name != "outputs"}
    return [stripped, key]


def _with_outputs(store: NotebookStore, cell: Any, index: int) -> Any:
    """The cell with its outputs, taken from the store when it came with the token only."""
    token = _outputs_token(cell)
    if token is None or "outputs" in cell:
        return cell
    stored = store.token_outputs(token)
    if stored is None:
        raise _unknown_outputs(token, index)
    return {**cell, "outputs": orjson.loads(stored)}


def _unknown_outputs(token: str, index: int) -> BridgeError:
    return BridgeError(
        ErrorCode.OUTPUTS_UNKNOWN,
        f"cell {index}: its outputs were sent as {token!r}, which this bridge does not know "
        "(any more): send them in full",
        {"cell": index},
    )


def _skeleton_texts(
    store: NotebookStore,
    top: dict[str, Any], has_cells: bool, encoder: Encoder, verbatim: dict[str, Any],
    style_key: int,
) -> tuple[str, str]:
    encoded_head, encoded_tail = layout.skeleton(top, has_cells, encoder)
    head = layout.use_verbatim(verbatim.get("head"), encoded_head)
    tail = layout.use_verbatim(verbatim.get("tail"), encoded_tail)
    if head is encoded_head or (has_cells and tail is encoded_tail):
        head, tail = _patched_skeleton(verbatim, top, has_cells, encoder) or (head, tail)
    source = _skeleton_key_source(top)
    known_head = store.cell_texts.get(cell_key(ROLE_HEAD, style_key, source))
    known_tail = store.cell_texts.get(cell_key(ROLE_TAIL, style_key, source))
    return (known_head[0] if known_head else head), (known_tail[0] if known_tail else tail)


def _patched_skeleton(verbatim: dict[str, Any], top: dict[str, Any], has_cells: bool,
                      encoder: Encoder) -> tuple[str, str] | None:
    """The file's kept head and tail with the notebook's changed members written into
    them (None when they were not kept): the two together are the notebook's text with
    an empty cells array, which stays as it is and marks where the cells go."""
    texts = [record.get("text") if isinstance(record, dict) else None
             for record in (verbatim.get("head"), verbatim.get("tail") if has_cells else {})]
    head, tail = texts[0], texts[1] if has_cells else ""
    if not isinstance(head, str) or not isinstance(tail, str):
        return None
    combined = head + tail
    start, end = len(combined) - len(combined.lstrip()), len(combined.rstrip())
    indent = encoder.style.indent
    place = patching.Place("", indent)
    try:
        whole = (combined[:start] + patching.patch(combined[start:end], top, encoder, place)
                 + combined[end:])
        span = patching.member_span(whole, start, "cells") if has_cells else None
    except ValueError:
        return None
    if not has_cells:
        return whole, ""
    if span is None or not head.rstrip().endswith("["):
        return None
    cut = span[0] + 1 + len(head) - len(head.rstrip())
    return whole[:cut], whole[cut:]


def _skeleton_key_source(notebook: dict[str, Any]) -> dict[str, Any]:
    """What the head and tail are made of: everything but the cells and the codec."""
    return {key: value for key, value in notebook.items() if key not in ("cells", "codec")}


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
        absent = codec.get("absent")
        absent = absent if isinstance(absent, list) else ()
        for key, default in CELL_DEFAULTS[kind].items():
            if key in absent:
                # a member the file's cell did not have stays out while it is empty
                if key in file and file[key] == default and type(file[key]) is type(default):
                    del file[key]
            elif key not in file:
                file[key] = type(default)() if default is not None else None
    if with_ids and "id" not in file and not codec.get("noId"):
        file["id"] = _new_id(used_ids)
    if isinstance(file.get("id"), str):
        used_ids.add(file["id"])
    order = style.cell_order(cell_type)
    return _ordered(file, order) if order else file


def _file_source(source: str, codec: dict[str, Any], style: FileStyle) -> str | list[str]:
    lines = codec.get("lines")
    if isinstance(lines, list) and "".join(map(str, lines)) == source:
        return lines
    as_list = codec.get("source", "list" if style.source_as_list else "string") == "list"
    return source.splitlines(True) if as_list else source


def _opaque_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _new_id(used: set[str]) -> str:
    while True:
        candidate = str(generate_corpus_id())
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
