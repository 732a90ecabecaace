"""Corpus access shared by the notebook tests."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import CORPUS


def corpus_files() -> list[Path]:
    files = sorted(CORPUS.rglob("*.ipynb"))
    assert len(files) > 100, f"the notebook corpus is missing at {CORPUS}"
    return files


def parseable_v4() -> list[Path]:
    """Corpus notebooks that are JSON objects with nbformat 4."""
    found = []
    for path in corpus_files():
        try:
            top = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if isinstance(top, dict) and top.get("nbformat") == 4:
            found.append(path)
    return found
