"""Mask IPython syntax so a cell reads as plain Python, line for line.

Jedi cannot parse `%magic`, `!shell`, `obj?` or a `%%bash` body. Each such line becomes
valid Python of the same line count; columns stay where the user typed them wherever
the line still holds Python (the code after `%time`, the name before `?`), so positions
map straight through.
"""

from __future__ import annotations

import re

# Cell magics whose body is Python: keep the body analysed, mask only the magic line.
PYTHON_CELL_MAGICS = frozenset({
    "time", "timeit", "capture", "prun", "debug", "python", "python3", "pypy",
    "px", "memit", "snakeviz", "ipython",
})
# Line magics whose argument is a Python statement (`%time df.sum()`).
PYTHON_LINE_MAGICS = frozenset({"time", "timeit", "prun", "debug", "memit", "px"})

_LINE_MAGIC = re.compile(r"^(?P<indent>\s*)(?P<sigil>%|!!?)(?P<name>[\w.]*)(?P<rest>.*)$")
_ASSIGNED_MAGIC = re.compile(
    r"^(?P<head>\s*[\w.,\s\[\]()*]+?\s*=\s*)(?P<magic>(?:%|!!?)\S.*)$"
)
_HELP_PREFIX = re.compile(r"^(?P<indent>\s*)(?P<marks>\?\??)(?=[\w.])")
_HELP_SUFFIX = re.compile(r"(?P<marks>\?\??)\s*$")
_HELP_TARGET = re.compile(r"^\s*[\w.\[\]()'\"]+\?\??\s*$")
_TRIPLE_QUOTE = re.compile(r"'''|\"\"\"")


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - len(text))


def _statement(indent: str, width: int) -> str:
    """A no-op statement at this indentation, padded to the original width."""
    return _pad(indent + "pass", width)


def mask_line(line: str) -> str:
    """One line outside strings: its IPython syntax replaced by Python of equal meaning."""
    stripped = line.lstrip()
    if not stripped or stripped.startswith("#"):
        return line
    if stripped[0] in "%!":
        match = _LINE_MAGIC.match(line)
        assert match is not None
        indent, sigil, name, rest = match.group("indent", "sigil", "name", "rest")
        if sigil == "%" and name in PYTHON_LINE_MAGICS and rest.strip():
            # `%time df.al` -> `_=    df.al`: the statement stays where it was typed.
            head_width = len(sigil) + len(name)
            return indent + _pad("_=", head_width) + rest
        return _statement(indent, len(line))
    assigned = _ASSIGNED_MAGIC.match(line)
    if assigned is not None:
        head, magic = assigned.group("head", "magic")
        return head + _pad("None", len(magic))
    if line.rstrip().endswith("?") and _HELP_TARGET.match(line):
        body = _HELP_SUFFIX.sub(lambda m: " " * len(m.group("marks")), line)
        return _HELP_PREFIX.sub(lambda m: m.group("indent") + " " * len(m.group("marks")), body)
    prefixed = _HELP_PREFIX.match(line)
    if prefixed is not None:
        return _HELP_PREFIX.sub(lambda m: m.group("indent") + " " * len(m.group("marks")), line)
    return line


def cell_magic_name(source: str) -> str | None:
    """The name of the cell magic opening this cell (`%%bash` -> "bash"), if any."""
    first = source.lstrip("\n").split("\n", 1)[0].strip()
    if not first.startswith("%%"):
        return None
    return first[2:].split(None, 1)[0] if len(first) > 2 else ""


def mask_cell(source: str) -> str:
    """The cell as plain Python with the same number of lines."""
    lines = source.split("\n")
    magic = cell_magic_name(source)
    if magic is not None:
        opener = next(i for i, line in enumerate(lines) if line.strip())
        if magic not in PYTHON_CELL_MAGICS:
            # A foreign body (%%bash, %%html, %%sql): nothing in it is Python.
            return "\n".join("" for _ in lines)
        lines[opener] = ""
        return "\n".join(_mask_python_lines(lines))
    return "\n".join(_mask_python_lines(lines))


def _mask_python_lines(lines: list[str]) -> list[str]:
    masked: list[str] = []
    open_quote: str | None = None
    continued = False
    for line in lines:
        if open_quote is None and not continued:
            masked.append(mask_line(line))
        else:
            masked.append(line)
        # Lines inside a triple-quoted string or after a backslash are never magic.
        for quote in _TRIPLE_QUOTE.findall(line.split("#", 1)[0] if open_quote is None
                                            else line):
            if open_quote is None:
                open_quote = quote
            elif quote == open_quote:
                open_quote = None
        continued = line.endswith("\\")
    return masked
