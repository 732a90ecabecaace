"""Whether an edit to one cell's source changes only the lines of that source."""

from __future__ import annotations

import copy
import difflib
from typing import Any

from bridge.notebook.layout import cell_spans
from bridge.notebook.patching import member_span
from bridge.notebook.store import NotebookStore
from bridge.notebook.writing import write_notebook


def source_lines(text: str, index: int) -> range | None:
    """The line numbers (0-based) holding the source of cell `index`, or None when the
    cell has no source member."""
    spans = cell_spans(text)
    assert spans is not None, "the file's cells cannot be located"
    span = member_span(text, spans[index][0], "source")
    if span is None:
        return None
    start, end = span
    return range(text.count("\n", 0, start), text.count("\n", 0, end) + 1)


def changed_line_numbers(before: str, after: str) -> tuple[set[int], set[int]]:
    """The lines of `before` that are gone and those of `after` that are new."""
    matcher = difflib.SequenceMatcher(None, before.split("\n"), after.split("\n"), False)
    old: set[int] = set()
    new: set[int] = set()
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            old.update(range(i1, i2))
            new.update(range(j1, j2))
    return old, new


def edit_outside_source(text: str, notebook: dict[str, Any], index: int, source: str,
                        store: NotebookStore) -> str | None:
    """Save `notebook` (as read from `text`) with cell `index`'s source set to `source`;
    None if only that source's lines changed, else the unified diff."""
    edited = copy.deepcopy(notebook)
    edited["cells"][index]["source"] = source
    after = write_notebook(edited, store)
    old, new = changed_line_numbers(text, after)
    before_lines, after_lines = source_lines(text, index), source_lines(after, index)
    if (before_lines is not None and after_lines is not None and old <= set(before_lines)
            and new <= set(after_lines) and after != text):
        return None
    return "\n".join(difflib.unified_diff(text.split("\n"), after.split("\n"),
                                          lineterm="", n=1))


def edited_source(source: str) -> str:
    """One line changed and one added."""
    lines = source.splitlines(True)
    if not lines:
        return "x = 1"
    lines[0] = lines[0].rstrip("\r\n") + "  # edited" + lines[0][len(lines[0].rstrip("\r\n")):]
    return "".join(lines) + ("" if lines[-1].endswith("\n") else "\n") + "print('edited')"
