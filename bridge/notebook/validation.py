"""nbformat schema validation, reported as warnings: Jupyter opens invalid notebooks too."""

from __future__ import annotations

from collections import Counter
from typing import Any

from nbformat import validator

_MAX_MESSAGE = 300


def validation_warnings(top: dict[str, Any]) -> list[str]:
    """Every schema problem of a v4 notebook, one line each (none for a valid one)."""
    minor = top.get("nbformat_minor")
    minor = minor if isinstance(minor, int) and not isinstance(minor, bool) else 0
    warnings: list[str] = []
    if minor > 5:
        warnings.append(
            f"nbformat 4.{minor} is newer than 4.5: it is checked against the 4.5 schema"
        )
    minor = min(max(minor, 0), 5)
    fast = validator.get_validator(4, minor, name="fastjsonschema")
    try:
        if fast is None:
            raise ValueError("no fast validator")
        fast.validate(top)
    except Exception:
        warnings.extend(_all_errors(top, minor))
    warnings.extend(_duplicate_ids(top, minor))
    return warnings


def _all_errors(top: dict[str, Any], minor: int) -> list[str]:
    full = validator.get_validator(4, minor, name="jsonschema")
    if full is None:
        return ["the notebook does not match the nbformat schema"]
    found = []
    for error in sorted(full.iter_errors(top), key=lambda e: list(map(str, e.path))):
        where = _path(error.path)
        message = error.message
        if len(message) > _MAX_MESSAGE:
            message = message[:_MAX_MESSAGE] + "…"
        found.append(f"schema: {where}: {message}")
    return found or ["the notebook does not match the nbformat schema"]


def _duplicate_ids(top: dict[str, Any], minor: int) -> list[str]:
    cells = top.get("cells")
    if minor < 5 or not isinstance(cells, list):
        return []
    ids = Counter(c.get("id") for c in cells if isinstance(c, dict) and "id" in c)
    return [f"cell id {cell_id!r} is used by {count} cells; ids must be unique"
            for cell_id, count in ids.items() if count > 1]


def _path(path: Any) -> str:
    text = "notebook"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text
