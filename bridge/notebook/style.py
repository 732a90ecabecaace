"""How a notebook file is laid out, and an encoder that writes JSON in exactly that layout.

Jupyter writes `json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False)`; other tools
use 2 or 4 spaces, tabs, unsorted keys, `\\uXXXX` escapes or no trailing newline. The
style detected on reading is carried with the notebook so saving writes it back the same.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

import orjson

_dumps = orjson.dumps


@dataclass(frozen=True)
class FileStyle:
    indent: str | None = " "  # None: everything on one line
    newline: str = "\n"
    item_separator: str = ","  # as written, before any newline
    key_separator: str = ": "
    sort_keys: bool = True
    ensure_ascii: bool = False
    trailer: str = "\n"  # what follows the closing brace
    source_as_list: bool = True
    outputs_as_list: bool = True  # how new outputs' multi-line strings are written
    # Key orders for files whose keys are not sorted (cells are rebuilt from parts).
    top_key_order: tuple[str, ...] = ()
    cell_key_order: tuple[str, ...] = ()
    # per cell_type, where cells of one type agree on an order others do not share
    kind_key_orders: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> FileStyle:
        if not isinstance(data, dict):
            return CANONICAL
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for name in ("top_key_order", "cell_key_order"):
            if isinstance(fields.get(name), list):
                fields[name] = tuple(str(key) for key in fields[name])
        orders = fields.get("kind_key_orders")
        if isinstance(orders, list):
            try:
                fields["kind_key_orders"] = tuple(
                    (str(kind), tuple(str(key) for key in keys)) for kind, keys in orders)
            except (TypeError, ValueError):
                return CANONICAL
        try:
            style = cls(**fields)
        except TypeError:
            return CANONICAL
        return style if style.is_well_formed() else CANONICAL

    def cell_order(self, cell_type: Any) -> tuple[str, ...]:
        """The member order of a cell of this type (empty: as the style sorts)."""
        for kind, order in self.kind_key_orders:
            if kind == cell_type:
                return order
        return self.cell_key_order

    def is_well_formed(self) -> bool:
        blank = re.compile(r"[ \t]*")
        return (
            (self.indent is None or blank.fullmatch(self.indent) is not None)
            and self.newline in ("\n", "\r\n")
            and self.item_separator in (",", ", ")
            and self.key_separator in (":", ": ")
            and re.fullmatch(r"\s*", self.trailer) is not None
        )


CANONICAL = FileStyle()
"""nbformat 4.5's own layout: what new notebooks are written in."""

_FIRST_KEY = re.compile(r'\s*\{(\s*)"(?:[^"\\]|\\.)*"(\s*:\s*)')
_ITEM_SEPARATOR = re.compile(r'[\]}"el0-9](,\s*)["\[{0-9tfn-]')
_NON_ASCII_ESCAPE = re.compile(r"\\u(?!00[0-7])[0-9a-fA-F]{4}")
_NON_ASCII_ESCAPE_BYTES = re.compile(_NON_ASCII_ESCAPE.pattern.encode())


def _decoded(data: str | bytes) -> str:
    # a slice of UTF-8 may end inside a character: drop the partial one
    return data if isinstance(data, str) else data.decode("utf-8", "ignore")


def _trailer(data: str | bytes) -> str:
    """The white space after the closing brace (looking only at the end of the file)."""
    size = 64
    while True:
        tail = _decoded(data[-size:])
        stripped = tail.rstrip()
        if stripped or size >= len(data):
            return tail[len(stripped):]
        size *= 16


def detect_style(data: str | bytes, top: dict[str, Any]) -> FileStyle:
    """Guess the layout from the file's first lines; reading verifies the guess."""
    text = _decoded(data[:8192])
    match = _FIRST_KEY.match(text)
    if match is None:
        return CANONICAL
    gap, key_separator = match.group(1), match.group(2)
    if "\n" in gap:
        newline = "\r\n" if "\r\n" in gap else "\n"
        indent: str | None = gap.rsplit("\n", 1)[1]
        item_separator = ","
    else:
        newline, indent = "\n", None
        found = _ITEM_SEPARATOR.search(text, 0, 4096)
        item_separator = ", " if found and found.group(1) == ", " else ","
    escape = _NON_ASCII_ESCAPE if isinstance(data, str) else _NON_ASCII_ESCAPE_BYTES
    ensure_ascii = data.isascii() and escape.search(data) is not None  # type: ignore[arg-type]
    cells = top.get("cells")
    first_cell = cells[0] if isinstance(cells, list) and cells else {}
    sort_keys = all(
        list(d) == sorted(d)
        for d in (top, first_cell, top.get("metadata"))
        if isinstance(d, dict)
    )
    source = first_cell.get("source") if isinstance(first_cell, dict) else None
    cell_keys: list[str] = []
    kind_orders: list[tuple[str, tuple[str, ...]]] = []
    if not sort_keys and isinstance(cells, list):
        first = [cell for cell in cells[:50] if isinstance(cell, dict)]
        cell_keys = _cell_key_order(first)
        for kind in dict.fromkeys(str(cell.get("cell_type")) for cell in first):
            order = _cell_key_order([c for c in first if str(c.get("cell_type")) == kind])
            if [key for key in cell_keys if key in order] != order:
                kind_orders.append((kind, tuple(order)))
    return FileStyle(
        indent=indent,
        newline=newline,
        item_separator=item_separator,
        key_separator=key_separator if key_separator in (":", ": ") else ": ",
        sort_keys=sort_keys,
        ensure_ascii=ensure_ascii,
        trailer=_trailer(data),
        source_as_list=not isinstance(source, str),
        outputs_as_list=_outputs_as_list(cells, default=not isinstance(source, str)),
        top_key_order=() if sort_keys else tuple(top),
        cell_key_order=tuple(cell_keys),
        kind_key_orders=tuple(kind_orders),
    )


def _cell_key_order(cells: list[dict[str, Any]]) -> list[str]:
    """One member order every cell's own order agrees with, as far as one does: sorted
    when every cell is (the notebook's own members may still be hand-ordered); else a
    member goes after the one it follows in the first cell that has it, so code cells
    keep their order beside markdown cells that lack some members."""
    if all(list(cell) == sorted(cell) for cell in cells):
        return sorted({key for cell in cells for key in cell})
    order: list[str] = []
    for cell in cells:
        previous: str | None = None
        for key in cell:
            if key not in order:
                order.insert(order.index(previous) + 1 if previous is not None else 0, key)
            previous = key
    return order


def _outputs_as_list(cells: Any, default: bool) -> bool:
    """Whether the file's outputs write their text as lists of lines (as nbformat does)
    or as strings: the first text found tells."""
    for cell in cells[:200] if isinstance(cells, list) else ():
        outputs = cell.get("outputs") if isinstance(cell, dict) else None
        for output in outputs if isinstance(outputs, list) else ():
            if not isinstance(output, dict):
                continue
            texts = [output.get("text")]
            data = output.get("data")
            if isinstance(data, dict):
                texts.extend(value for key, value in data.items() if key.startswith("text/"))
            for text in texts:
                if isinstance(text, (str, list)):
                    return isinstance(text, list)
    return default


def _escape_non_ascii(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


class Encoder:
    """Encodes JSON values in one FileStyle, as bytes, piece by piece.

    Strings go through orjson (whose escaping matches Python's json with
    ensure_ascii=False); numbers use Python's repr like nbformat does.
    """

    def __init__(self, style: FileStyle, base: str = "") -> None:
        """`base`: the indentation of the line a value starts on, for values written
        somewhere inside a part."""
        self.style = style
        self._indent = None if style.indent is None else style.indent.encode()
        self._newline = style.newline.encode() + base.encode()
        self._item = style.item_separator.encode()
        self._key = style.key_separator.encode()

    def line_break(self, depth: int) -> bytes:
        """What goes before a member at `depth`: a newline and indentation, or nothing."""
        if self._indent is None:
            return b""
        return self._newline + self._indent * depth

    def separator(self, depth: int) -> bytes:
        """What separates two members at `depth`."""
        if self._indent is None:
            return self._item
        return self._item.rstrip() + self.line_break(depth)

    def encode(self, value: Any, depth: int = 0) -> bytes:
        out: list[bytes] = []
        self._encode(value, depth, out)
        data = b"".join(out)
        if self.style.ensure_ascii and not data.isascii():
            data = _NON_ASCII.sub(_escape_non_ascii, data.decode()).encode()
        return data

    def _encode(self, value: Any, depth: int, out: list[bytes]) -> None:
        kind = type(value)
        if kind is str:
            out.append(_string(value))
        elif kind is dict:
            self._encode_dict(value, depth, out)
        elif kind is list:
            self._encode_list(value, depth, out)
        elif value is None:
            out.append(b"null")
        elif value is True:
            out.append(b"true")
        elif value is False:
            out.append(b"false")
        elif kind is int:
            out.append(int.__repr__(value).encode())
        elif kind is float:
            out.append(_float(value))
        elif isinstance(value, dict):
            self._encode_dict(dict(value), depth, out)
        elif isinstance(value, (list, tuple)):
            self._encode_list(list(value), depth, out)
        else:
            raise TypeError(f"cannot write {kind.__name__} into a notebook")

    def _encode_list(self, items: list[Any], depth: int, out: list[bytes]) -> None:
        if not items:
            out.append(b"[]")
            return
        inner = self.line_break(depth + 1)
        separator = self.separator(depth + 1)
        if all(type(item) is str for item in items):
            # The common case (lines of text) in one C-level join.
            out.append(b"[" + inner + separator.join(map(_string, items))
                       + self.line_break(depth) + b"]")
            return
        out.append(b"[" + inner)
        for index, item in enumerate(items):
            if index:
                out.append(separator)
            self._encode(item, depth + 1, out)
        out.append(self.line_break(depth) + b"]")

    def _encode_dict(self, members: dict[str, Any], depth: int, out: list[bytes]) -> None:
        if not members:
            out.append(b"{}")
            return
        inner = self.line_break(depth + 1)
        separator = self.separator(depth + 1)
        keys = sorted(members) if self.style.sort_keys else members
        first = True
        for key in keys:
            if not isinstance(key, str):
                raise TypeError("notebook object keys must be strings")
            out.append((b"{" + inner if first else separator) + _string(key) + self._key)
            first = False
            value = members[key]
            if type(value) is str:
                out.append(_string(value))
            else:
                self._encode(value, depth + 1, out)
        out.append(self.line_break(depth) + b"}")


def _string(text: str) -> bytes:
    try:
        return _dumps(text)
    except TypeError:  # lone surrogates: Python's json writes them escaped
        import json

        return json.dumps(text, ensure_ascii=True).encode()


def _float(value: float) -> bytes:
    if value != value or value in (float("inf"), float("-inf")):
        raise TypeError("NaN and Infinity are not JSON")
    return float.__repr__(value).encode()
