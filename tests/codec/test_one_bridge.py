"""Many notebooks, real and generated, through one `nbbridge serve` over its pipes in
random order: each saved back byte-identical, and a one-cell edit changing only that
cell's source, whatever the bridge kept of the notebooks before it."""

from __future__ import annotations

import base64
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge_client import BridgeClient
from codec.helpers import parseable_v4
from codec.layouts import Layout, notebooks
from codec.minimal_diff import changed_line_numbers, edited_source, source_lines


def generated_texts(count: int) -> list[str]:
    texts: list[str] = []

    @settings(max_examples=count, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(notebooks(), st.randoms(use_true_random=False))
    def collect(notebook: dict, rng: random.Random) -> None:
        texts.append(Layout(rng).write(notebook))

    collect()
    return texts


async def test_many_notebooks_through_one_bridge_in_random_order(
        bridge: BridgeClient) -> None:
    texts = [path.read_text(encoding="utf-8") for path in parseable_v4()]
    texts += generated_texts(60)
    order = random.Random(21).sample(texts * 2, k=2 * len(texts))
    edits = 0
    for number, text in enumerate(order):
        if number % 2:
            raw = text.encode()
            opened = await bridge.request(
                "notebook/deserialize", {"contentBase64": base64.b64encode(raw).decode()})
            saved = await bridge.request("notebook/serialize",
                                         {"notebook": opened["notebook"], "encoding": "base64"})
            assert base64.b64decode(saved["contentBase64"]) == raw
        else:
            opened = await bridge.request("notebook/deserialize", {"content": text})
            saved = await bridge.request("notebook/serialize", {"notebook": opened["notebook"]})
            assert saved["content"] == text
        notebook = opened["notebook"]
        code = [i for i, cell in enumerate(notebook["cells"]) if cell["kind"] == "code"
                and "noSource" not in cell.get("codec", {})]
        if not code:
            continue
        index = code[number % len(code)]
        notebook["cells"][index]["source"] = edited_source(notebook["cells"][index]["source"])
        after = (await bridge.request("notebook/serialize", {"notebook": notebook}))["content"]
        old, new = changed_line_numbers(text, after)
        before_lines, after_lines = source_lines(text, index), source_lines(after, index)
        assert before_lines is not None and after_lines is not None
        assert old <= set(before_lines) and new <= set(after_lines), (number, index)
        edits += 1
    assert edits > 200
