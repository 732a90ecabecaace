"""Corpus access shared by the notebook tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

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


def without_output_tokens(result: Any) -> Any:
    """A deserialize result without the per-read tokens naming each cell's outputs, which
    differ from one read to the next."""
    copied = copy.deepcopy(result)
    notebook = copied.get("notebook", copied)
    for cell in notebook["cells"]:
        codec = cell.get("codec")
        if isinstance(codec, dict) and isinstance(codec.pop("outputs", None), str):
            if not codec:
                del cell["codec"]
    return copied


def deserialize_body(value: bytes, member: bytes = b"content", after: bytes = b"",
                     method: bytes = b"notebook/deserialize", msg_id: int = 7) -> bytes:
    """A request body written by hand: `value` is the member's JSON (a string literal),
    `after` whatever follows it inside params."""
    return (b'{"jsonrpc":"2.0","id":%d,"method":"%b","params":{"%b":%b%b}}'
            % (msg_id, method, member, value, after))
