"""Layout verification: which parts of a file writing would change, found without a
kernel or a bridge process."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bridge.notebook.layout import (
    CELL_DEPTH,
    cell_spans,
    skeleton,
    use_verbatim,
    verbatim_record,
    verify,
)
from bridge.notebook.style import Encoder, detect_style


def cells() -> list[dict[str, Any]]:
    return [{"cell_type": "markdown", "id": "m1", "metadata": {}, "source": ["# Caf\u00e9 \u2615"]},
            {"cell_type": "code", "execution_count": None, "id": "c1", "metadata": {},
             "outputs": [], "source": ["x = [1, 2]"]}]


def file_text() -> tuple[str, dict[str, Any]]:
    top = {"cells": cells(), "metadata": {"language_info": {"name": "python"}},
           "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(top, indent=1, sort_keys=True, ensure_ascii=False) + "\n", top


def encoder_for(text: str, top: dict[str, Any]) -> Encoder:
    return Encoder(detect_style(text, top))


@pytest.mark.parametrize("as_bytes", [False, True])
def test_a_file_the_writer_reproduces_has_no_differences(as_bytes: bool) -> None:
    text, top = file_text()
    data = text.encode() if as_bytes else text
    found = verify(data, top, top["cells"], encoder_for(text, top))
    assert found.head is found.tail is found.whole is None
    assert found.originals == [None, None] and found.befores == [None, None]
    head, tail = skeleton(top, True, encoder_for(text, top))
    separator = encoder_for(text, top).separator(CELL_DEPTH).decode()
    assert head + separator.join(found.pieces) + tail == text


def test_a_cell_written_differently_keeps_its_original_text() -> None:
    text, _ = file_text()
    odd = text.replace('"x = [1, 2]"', '"x = [1, 2]\\u0021"')  # escaped where none need be
    parsed = json.loads(odd)
    encoder = encoder_for(odd, parsed)
    found = verify(odd, parsed, parsed["cells"], encoder)
    assert found.whole is None and found.head is None and found.tail is None
    assert found.originals[0] is None
    original = found.originals[1]
    assert original is not None and "\\u0021" in original and "!" in found.pieces[1]
    # saving the unchanged cell gives the original text back; an edited one its own
    record = verbatim_record(original, found.pieces[1])
    assert use_verbatim(record, found.pieces[1]) == original
    edited = found.pieces[1].replace("x = ", "y = ")
    assert use_verbatim(record, edited) == edited


def test_an_unusual_separator_and_head_are_recorded() -> None:
    text, top = file_text()
    spans = cell_spans(text)
    assert spans is not None and len(spans) == 2
    between = text[spans[0][1]:spans[1][0]]
    odd = text[:spans[0][1]] + between.replace(",", " ,") + text[spans[1][0]:]
    odd = odd.replace("{\n", "{ \n", 1)
    parsed = json.loads(odd)
    found = verify(odd, parsed, parsed["cells"], encoder_for(text, top))
    assert found.befores == [None, between.replace(",", " ,")]
    assert found.head is not None and found.head[0].startswith("{ \n")
    assert found.originals == [None, None]  # the cells themselves are as written
    # head and tail are kept together, so that an edit to the notebook's own members
    # (written into both) keeps each as it was
    assert found.tail is not None and odd.endswith(found.tail[0]) and found.whole is None


def test_cells_that_cannot_be_located_keep_the_whole_file() -> None:
    text, top = file_text()
    # one cell fewer than the file holds: the spans cannot be matched to cells
    found = verify(text.replace("\n", "\n "), top, top["cells"][:1], encoder_for(text, top))
    assert found.whole is not None and found.whole[0] == text.replace("\n", "\n ")


def test_cell_spans_find_each_element_of_the_top_level_cells_only() -> None:
    text = '{"metadata": {"cells": [1]}, "cells" : [ {"a": "]"} , [2] ]}'
    spans = cell_spans(text)
    assert spans is not None
    assert [text[start:end] for start, end in spans] == ['{"a": "]"}', "[2]"]
    assert cell_spans('{"nbformat": 4}') is None
    assert cell_spans("[1]") is None
    assert cell_spans('{"cells": [1,') is None


def test_a_tail_written_differently_is_recorded_and_nothing_else() -> None:
    text, top = file_text()
    odd = text.replace('"nbformat": 4', '"nbformat":  4')  # after the cells: the tail
    found = verify(odd, json.loads(odd), top["cells"], encoder_for(text, top))
    assert found.whole is None
    assert found.head is not None and odd.startswith(found.head[0])  # kept with the tail
    assert found.originals == [None, None] and found.befores == [None, None]
    assert found.tail is not None
    original, encoded = found.tail
    assert '"nbformat":  4' in original and '"nbformat": 4' in encoded
    assert odd.endswith(original)


def test_a_file_without_cells_is_all_head() -> None:
    top = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    text = json.dumps(top, indent=1, sort_keys=True) + "\n"
    head, tail = skeleton(top, False, encoder_for(text, top))
    assert (head, tail) == (text, "")
    found = verify(text, top, [], encoder_for(text, top))
    assert found.pieces == [] and found.head is found.tail is found.whole is None
    # the same file with a space added: the whole file is its head
    odd = text.replace("[]", "[ ]")
    found = verify(odd, top, [], encoder_for(text, top))
    assert found.head == (odd, text) and found.tail is found.whole is None


@pytest.mark.parametrize("record", [None, "text", {"text": 1, "digest": "x"}, {"text": "t"},
                                    {"digest": "d"}])
def test_a_malformed_verbatim_record_is_ignored(record: Any) -> None:
    assert use_verbatim(record, "encoded") == "encoded"
