"""Writing a changed value into the original text of the part that held it.

A cell whose text differs from what the file's style gives (an inline array, blank lines
in an empty object, its own member order or indentation, an escape) is kept verbatim.
When such a cell changes, its text is patched instead of rewritten: members and items
that are unchanged keep their original text, and only what changed is written anew, in
the layout of the container around it. An edited source changes only the source's lines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from typing import Any

import orjson

from bridge.notebook.style import Encoder

_decoder = json.JSONDecoder()
_WHITESPACE = " \t\n\r"
_SORTED = orjson.OPT_SORT_KEYS


@dataclass
class Member:
    """One member of an object (with its key) or item of an array, in the text."""

    start: int  # where its key (or, in an array, its value) starts
    value_start: int
    end: int  # just after its value
    key: str | None = None


@dataclass
class Container:
    """An object or array in the text: where it is and where its members are."""

    start: int  # the opening bracket
    end: int  # just after the closing bracket
    members: list[Member]


def skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in _WHITESPACE:
        index += 1
    return index


def scan(text: str, start: int) -> Container:
    """The object or array whose opening bracket is at `start` (ValueError if the text
    is no JSON there)."""
    opening = text[start]
    if opening not in "{[":
        raise ValueError("not a container")
    closing = "}" if opening == "{" else "]"
    members: list[Member] = []
    index = skip_space(text, start + 1)
    if text.startswith(closing, index):
        return Container(start, index + 1, members)
    while True:
        member_start = index
        key: str | None = None
        if opening == "{":
            key, index = _decoder.raw_decode(text, index)
            index = skip_space(text, index)
            if not text.startswith(":", index):
                raise ValueError("expected ':'")
            index = skip_space(text, index + 1)
        value_start = index
        _, index = _decoder.raw_decode(text, index)
        members.append(Member(member_start, value_start, index, key))
        index = skip_space(text, index)
        if text.startswith(",", index):
            index = skip_space(text, index + 1)
        elif text.startswith(closing, index):
            return Container(start, index + 1, members)
        else:
            raise ValueError(f"expected ',' or {closing!r}")


def member_span(text: str, start: int, key: str) -> tuple[int, int] | None:
    """Where the value of the object member `key` is, in the object at `start`."""
    for member in scan(text, start).members:
        if member.key == key:
            return member.value_start, member.end
    return None


@dataclass(frozen=True)
class Place:
    """How values are laid out where a new one goes: the indentation of its line and
    the step one level deeper adds (None: on one line)."""

    indent: str
    step: str | None


def patch(original: str, value: Any, encoder: Encoder, place: Place) -> str:
    """`original` (the JSON text of a value) changed into `value`, changing only what
    differs. `place` is where `original` sits, for values that have to be written anew."""
    old = orjson.loads(original)
    return _patch(original, 0, len(original), old, value, encoder, place)


def _same(old: Any, new: Any) -> bool:
    # strict: 1, 1.0 and true differ; an object's member order does not matter
    try:
        return bool(orjson.dumps(old, option=_SORTED) == orjson.dumps(new, option=_SORTED))
    except TypeError:
        return False


def _patch(text: str, start: int, end: int, old: Any, new: Any, encoder: Encoder,
           place: Place) -> str:
    if _same(old, new):
        return text[start:end]
    both = type(old) is type(new) and type(old) in (dict, list)
    if both and old:
        if not new:
            return "{}" if type(new) is dict else "[]"
        return _patch_container(text, scan(text, start), old, new, encoder, place)
    return fresh(new, encoder, place)


def fresh(value: Any, encoder: Encoder, place: Place) -> str:
    """`value` written anew at `place`, in the file's separators and escaping."""
    style = encoder.style
    if place.step is None:
        local = replace(style, indent=None, item_separator=_inline_separator(style))
    else:
        local = replace(style, indent=place.step)
    return Encoder(local, base=place.indent).encode(value).decode("utf-8", "surrogatepass")


def _inline_separator(style: Any) -> str:
    # one-line arrays inside an indented file are mostly written by Python's json
    return ", " if style.indent is not None else str(style.item_separator)


def _line_indent(text: str, gap: str) -> str | None:
    """The indentation after the last newline of `gap`, or None without one."""
    if "\n" not in gap:
        return None
    return gap.rsplit("\n", 1)[1]


def _patch_container(text: str, container: Container, old: Any, new: Any,
                     encoder: Encoder, place: Place) -> str:
    members = container.members
    opening = text[container.start]
    open_gap = text[container.start + 1:members[0].start]
    close_gap = text[members[-1].end:container.end - 1]
    separators = [text[members[i].end:members[i + 1].start] for i in range(len(members) - 1)]
    inner_indent = _line_indent(text, open_gap)
    if inner_indent is None:
        inner = Place(place.indent, None)
        usual = separators[0] if separators else _inline_separator(encoder.style)
    else:
        closing_indent = _line_indent(text, close_gap)
        step = place.step
        if closing_indent is not None and inner_indent.startswith(closing_indent) and (
                len(inner_indent) > len(closing_indent)):
            step = inner_indent[len(closing_indent):]
        inner = Place(inner_indent, step if step is not None else " ")
        usual = separators[0] if separators else "," + open_gap
    if opening == "{":
        pieces = _object_pieces(text, members, old, new, encoder, inner)
    else:
        pieces = _array_pieces(text, members, old, new, encoder, inner)
    out = [opening, open_gap]
    for index, (origin, piece) in enumerate(pieces):
        if index:
            previous = pieces[index - 1][0]
            adjacent = origin is not None and previous is not None and origin == previous + 1
            out.append(separators[previous] if adjacent and previous is not None else usual)
        out.append(piece)
    out.append(close_gap)
    out.append("]" if opening == "[" else "}")
    return "".join(out)


def _array_pieces(text: str, members: list[Member], old: list[Any], new: list[Any],
                  encoder: Encoder, inner: Place) -> list[tuple[int | None, str]]:
    """Each new item's text, with the index of the original item it keeps (or None)."""
    def keys(items: list[Any]) -> list[bytes]:
        return [orjson.dumps(item, option=_SORTED) for item in items]

    matcher = SequenceMatcher(None, keys(old), keys(new), autojunk=False)
    pieces: list[tuple[int | None, str]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces.extend((i, text[members[i].value_start:members[i].end])
                          for i in range(i1, i2))
        elif tag == "replace" and i2 - i1 == j2 - j1:
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                member = members[i]
                pieces.append((i, _patch(text, member.value_start, member.end, old[i],
                                         new[j], encoder, inner)))
        else:
            pieces.extend((None, fresh(item, encoder, inner)) for item in new[j1:j2])
    return pieces


def _object_pieces(text: str, members: list[Member], old: dict[str, Any],
                   new: dict[str, Any], encoder: Encoder,
                   inner: Place) -> list[tuple[int | None, str]]:
    """Each new member's text, in the original's order (new members where the order
    puts them), with the index of the original member it keeps (or None)."""
    position = {member.key: index for index, member in enumerate(members)}
    order: list[str] = [str(member.key) for member in members if member.key in new]
    original_keys = [str(member.key) for member in members]
    sorted_keys = original_keys == sorted(original_keys)
    added = [key for key in new if key not in position]
    for key in added:
        if sorted_keys:
            at = next((i for i, k in enumerate(order) if k > key), len(order))
        else:
            before = list(new)[:list(new).index(key)]
            kept = [i for i, k in enumerate(order) if k in before]
            at = kept[-1] + 1 if kept else 0
        order.insert(at, key)
    key_separator = _key_separator(text, members[0]) if members else encoder.style.key_separator
    pieces: list[tuple[int | None, str]] = []
    for key in order:
        index = position.get(key)
        if index is None:
            head = encoder.encode(key).decode("utf-8", "surrogatepass") + key_separator
            pieces.append((None, head + fresh(new[key], encoder, inner)))
            continue
        member = members[index]
        value = _patch(text, member.value_start, member.end, old[key], new[key], encoder,
                       inner)
        pieces.append((index, text[member.start:member.value_start] + value))
    return pieces


def _key_separator(text: str, member: Member) -> str:
    _, key_end = _decoder.raw_decode(text, member.start)
    return text[key_end:member.value_start]
