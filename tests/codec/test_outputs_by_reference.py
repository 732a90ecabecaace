"""Saving with unchanged outputs sent as the token `notebook/deserialize` gave them."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from bridge.errors import BridgeError, ErrorCode
from bridge.notebook.reading import read_notebook
from bridge.notebook.store import BoundedCache, NotebookStore
from bridge.notebook.writing import write_notebook

from bridge_client import BridgeClient, RpcError
from bridge_client import outputs_by_reference as by_reference
from codec.helpers import parseable_v4


def with_outputs(paths: list[Any]) -> list[Any]:
    found = []
    for path in paths:
        top = json.loads(path.read_text(encoding="utf-8"))
        if any(cell.get("outputs") for cell in top.get("cells", []) if isinstance(cell, dict)):
            found.append(path)
    return found


async def test_every_corpus_notebook_saves_byte_identical_by_reference(
        bridge: BridgeClient) -> None:
    paths = with_outputs(parseable_v4())
    assert len(paths) > 20
    for path in paths:
        text = path.read_text(encoding="utf-8")
        opened = await bridge.request("notebook/deserialize", {"content": text})
        sent = by_reference(opened["notebook"])
        assert orjson.dumps(sent) != orjson.dumps(opened["notebook"]), path.name
        saved = await bridge.request("notebook/serialize", {"notebook": sent})
        assert saved["content"] == text, path.name


async def test_an_edited_cell_keeps_the_outputs_it_was_read_with(bridge: BridgeClient) -> None:
    path = next(p for p in with_outputs(parseable_v4()) if p.name == "test4.ipynb")
    text = path.read_text(encoding="utf-8")
    opened = (await bridge.request("notebook/deserialize", {"content": text}))["notebook"]
    index = next(i for i, cell in enumerate(opened["cells"]) if cell.get("outputs"))
    opened["cells"][index]["source"] += "\n# edited"
    in_full = await bridge.request("notebook/serialize", {"notebook": opened})
    sent = by_reference(opened)
    assert "outputs" not in sent["cells"][index]
    saved = await bridge.request("notebook/serialize", {"notebook": sent})
    assert saved["content"] == in_full["content"] != text
    written = json.loads(saved["content"])["cells"][index]
    assert written["outputs"] == json.loads(text)["cells"][index]["outputs"]
    assert "".join(written["source"]).endswith("# edited")


async def test_outputs_sent_in_full_win_over_a_stale_token(bridge: BridgeClient) -> None:
    path = next(p for p in with_outputs(parseable_v4()) if p.name == "test4.ipynb")
    text = path.read_text(encoding="utf-8")
    opened = (await bridge.request("notebook/deserialize", {"content": text}))["notebook"]
    index = next(i for i, cell in enumerate(opened["cells"]) if cell.get("outputs"))
    new = [{"output_type": "stream", "name": "stdout", "text": "ran again\n"}]
    opened["cells"][index]["outputs"] = new
    saved = await bridge.request("notebook/serialize", {"notebook": opened})
    # the new outputs are written as nbformat writes them: text as a list of lines
    assert json.loads(saved["content"])["cells"][index]["outputs"] == [
        {**new[0], "text": ["ran again\n"]}]
    # A markdown cell never takes outputs, whatever token its codec still carries.
    opened["cells"][index] = {key: value for key, value in opened["cells"][index].items()
                              if key not in ("outputs", "execution_count")}
    opened["cells"][index]["kind"] = "markdown"
    saved = await bridge.request("notebook/serialize", {"notebook": opened})
    assert "outputs" not in json.loads(saved["content"])["cells"][index]


async def test_another_bridge_asks_for_the_outputs_in_full(bridge: BridgeClient) -> None:
    path = next(p for p in with_outputs(parseable_v4()) if p.name == "test4.ipynb")
    text = path.read_text(encoding="utf-8")
    opened = (await bridge.request("notebook/deserialize", {"content": text}))["notebook"]
    other = await BridgeClient.start()
    try:
        await other.initialize()
        with pytest.raises(RpcError) as unknown:
            await other.request("notebook/serialize", {"notebook": by_reference(opened)})
        assert unknown.value.code == ErrorCode.OUTPUTS_UNKNOWN
        assert "send them in full" in unknown.value.message
        index = unknown.value.data["cell"]
        assert opened["cells"][index]["outputs"]
        saved = await other.request("notebook/serialize", {"notebook": opened})
        assert saved["content"] == text
    finally:
        await other.shutdown()


def test_evicted_outputs_are_an_error_and_evicted_texts_only_cost_time() -> None:
    path = next(p for p in with_outputs(parseable_v4()) if p.name == "test4.ipynb")
    text = path.read_text(encoding="utf-8")
    store = NotebookStore()
    notebook = read_notebook(text, store).result["notebook"]
    index = next(i for i, cell in enumerate(notebook["cells"]) if cell.get("outputs"))
    sent = by_reference(notebook)
    assert write_notebook(sent, store) == text
    sent["cells"][index]["source"] += "\n# edited"  # a text the cache cannot know
    store.forget_outputs()
    with pytest.raises(BridgeError) as evicted:
        write_notebook(sent, store)
    assert evicted.value.code == ErrorCode.OUTPUTS_UNKNOWN and evicted.value.data == {
        "cell": index}
    notebook["cells"][index]["source"] += "\n# edited"
    assert json.loads(write_notebook(notebook, store))["cells"][index]["outputs"] == (
        json.loads(text)["cells"][index]["outputs"])


def test_bounded_cache_evicts_least_recently_used_by_size() -> None:
    cache: BoundedCache[str, bytes] = BoundedCache(10, len)
    cache.put("a", b"1234")
    cache.put("b", b"1234")
    assert cache.get("a") == b"1234"  # now the most recent
    cache.put("c", b"1234")
    assert cache.get("b") is None and cache.get("a") == cache.get("c") == b"1234"
    cache.put("huge", b"x" * 11)
    assert cache.get("huge") is None and cache.get("a") == b"1234"
