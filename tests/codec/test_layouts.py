"""Generated layouts: each round-trips byte-identical, and a one-cell source edit changes
only that source's lines. NBBRIDGE_LAYOUT_EXAMPLES sets how many layouts (a long run)."""

from __future__ import annotations

import json
import os
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.notebook.layout import cell_spans
from bridge.notebook.patching import member_span
from bridge.notebook.reading import read_notebook
from bridge.notebook.store import NotebookStore
from bridge.notebook.writing import write_notebook

from codec.layouts import Layout, line_text, notebooks
from codec.minimal_diff import changed_line_numbers, edit_outside_source

EXAMPLES = int(os.environ.get("NBBRIDGE_LAYOUT_EXAMPLES", "150"))
layout_settings = settings(max_examples=EXAMPLES, deadline=None,
                           suppress_health_check=[HealthCheck.too_slow])
_new_source = st.lists(line_text, max_size=3).map("\n".join)


@layout_settings
@given(notebooks(), st.randoms(use_true_random=False))
def test_every_layout_round_trips_byte_identical(notebook: dict, rng: random.Random) -> None:
    text = Layout(rng).write(notebook)
    store = NotebookStore()
    assert write_notebook(read_notebook(text, store).result["notebook"], store) == text
    # and through a bridge that knows nothing of it but what the client sends back
    assert write_notebook(read_notebook(text, store).result["notebook"], NotebookStore()) == text


def _source_span(text: str, index: int) -> tuple[int, int]:
    spans = cell_spans(text)
    assert spans is not None
    span = member_span(text, spans[index][0], "source")
    assert span is not None
    return span


@layout_settings
@given(notebooks(), st.randoms(use_true_random=False), st.data())
def test_a_source_edit_changes_only_that_source(notebook: dict, rng: random.Random,
                                                data: st.DataObject) -> None:
    text = Layout(rng).write(notebook)
    read = read_notebook(text, NotebookStore()).result["notebook"]
    index = data.draw(st.integers(0, len(read["cells"]) - 1), label="cell")
    source = data.draw(_new_source, label="source")
    if source == read["cells"][index]["source"]:
        source += "x"
    reader = NotebookStore()
    read_notebook(text, reader)
    for store in (reader, NotebookStore()):  # the bridge that read it, and another
        diff = edit_outside_source(text, read, index, source, store)
        assert diff is None, diff
    # the changed characters lie inside the source's value, also in one-line files
    edited = json.loads(json.dumps(read))
    edited["cells"][index]["source"] = source
    after = write_notebook(edited, NotebookStore())
    prefix = 0
    while prefix < min(len(text), len(after)) and text[prefix] == after[prefix]:
        prefix += 1
    suffix = 0
    while (suffix < min(len(text), len(after)) - prefix
           and text[-1 - suffix] == after[-1 - suffix]):
        suffix += 1
    old_start, old_end = _source_span(text, index)
    new_start, new_end = _source_span(after, index)
    assert old_start <= prefix and len(text) - suffix <= old_end
    assert new_start <= prefix and len(after) - suffix <= new_end
    saved = json.loads(after)
    original = json.loads(text)
    joined = saved["cells"][index]["source"]
    assert ("".join(joined) if isinstance(joined, list) else joined) == source
    saved["cells"][index]["source"] = original["cells"][index]["source"]
    assert saved == original


def _metadata_lines(text: str) -> set[int]:
    start = len(text) - len(text.lstrip())
    span = member_span(text, start, "metadata")
    assert span is not None
    return set(range(text.count("\n", 0, span[0]), text.count("\n", 0, span[1]) + 1))


@layout_settings
@given(notebooks(), st.randoms(use_true_random=False), st.sampled_from(["R", "deno"]))
def test_choosing_a_kernel_changes_only_the_notebook_metadata(
        notebook: dict, rng: random.Random, language: str) -> None:
    text = Layout(rng).write(notebook)
    read = read_notebook(text, NotebookStore()).result["notebook"]
    spec = {"display_name": language, "language": language.lower(), "name": language}
    read["metadata"] = {**read["metadata"], "kernelspec": spec}
    after = write_notebook(read, NotebookStore())
    old, new = changed_line_numbers(text, after)
    assert old <= _metadata_lines(text) and new <= _metadata_lines(after), (text, after)
    expected = json.loads(text)
    expected["metadata"]["kernelspec"] = spec
    assert json.loads(after) == expected
