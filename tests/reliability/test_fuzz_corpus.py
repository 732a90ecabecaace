"""Random mutations of the corpus notebooks through the codec: a clear error or a
notebook, never a crash or a hang; every notebook that opens saves back byte-identical."""

from __future__ import annotations

import os

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.errors import BridgeError
from bridge.notebook.reading import read_notebook
from bridge.notebook.store import NotebookStore
from bridge.notebook.writing import write_notebook

from codec.helpers import corpus_files

EXAMPLES = int(os.environ.get("NBBRIDGE_FUZZ_EXAMPLES", "2000")) // 2
TEXTS = [path.read_text(encoding="utf-8") for path in corpus_files()
         if path.stat().st_size < 200_000]
PIECES = ['"', "{", "}", "[", "]", ",", ":", "\\", "\\u12", "null", "1e999", "-0", " ", "\n",
          '"cells"', '"nbformat": 3', '"source"', '"cell_type": "bogus"', "\U0001F600", "\x00"]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "truncate"]))
        piece = draw(st.sampled_from(PIECES) | st.text(max_size=5))
        if action == "insert":
            text = text[:at] + piece + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)):]
        elif action == "replace":
            text = text[:at] + piece + text[at + len(piece):]
        else:
            text = text[:at]
    return text


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(text=mutated())
def test_mutated_notebooks_open_or_fail_clearly_and_round_trip(text: str) -> None:
    try:
        result = read_notebook(text, NotebookStore()).result
    except BridgeError as error:
        assert error.message
        return
    notebook = orjson.loads(orjson.dumps(result["notebook"]))
    if orjson.loads(orjson.dumps(notebook["nbformat"])) == 4 and "upgraded" not in " ".join(
            result["warnings"]):
        assert write_notebook(notebook, NotebookStore()) == text
