"""Cells of a Python script in the "percent" format: `# %%` lines start each cell.

The format of Spyder, VS Code's interactive window and jupytext. Lines before the first
marker form a cell of their own; `# %% [markdown]` (or `[md]`) cells hold no code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MARKER = re.compile(r"^#\s*%%(?!%)(?P<rest>.*)$")
_KIND = re.compile(r"^\s*(?:.*?)\[(?P<kind>\w+)\]")


@dataclass(frozen=True)
class ScriptCell:
    """Lines [start, end) of the script; start is the first line after the marker."""

    index: int
    start: int
    end: int
    title: str
    is_code: bool
    text: str

    @property
    def code(self) -> str:
        """What runs: the cell without its trailing blank lines."""
        return self.text.rstrip()


def split_cells(text: str) -> list[ScriptCell]:
    """Every cell of the script, in order; a script without markers is one cell."""
    lines = text.split("\n")
    bounds: list[tuple[int, str, bool]] = []  # (marker line or -1, title, is_code)
    for number, line in enumerate(lines):
        match = _MARKER.match(line)
        if match is not None:
            rest = match.group("rest")
            kind = _KIND.match(rest)
            is_code = kind is None or kind.group("kind").lower() not in ("markdown", "md", "raw")
            bounds.append((number, rest.strip(), is_code))
    cells: list[ScriptCell] = []
    if not bounds or bounds[0][0] > 0:
        first_end = bounds[0][0] if bounds else len(lines)
        if not bounds or any(line.strip() for line in lines[:first_end]):
            cells.append(_cell(lines, len(cells), 0, first_end, "", True))
    for position, (marker, title, is_code) in enumerate(bounds):
        end = bounds[position + 1][0] if position + 1 < len(bounds) else len(lines)
        cells.append(_cell(lines, len(cells), marker + 1, end, title, is_code))
    return cells


def _cell(lines: list[str], index: int, start: int, end: int, title: str,
          is_code: bool) -> ScriptCell:
    return ScriptCell(index, start, end, title, is_code, "\n".join(lines[start:end]))


def cell_at_line(cells: list[ScriptCell], line: int) -> ScriptCell | None:
    """The cell holding this line; a marker line belongs to the cell it opens."""
    for cell in cells:
        if cell.start - 1 <= line < cell.end:
            return cell
    return cells[-1] if cells and line >= cells[-1].end else None
