"""A large notebook's cells, and a large file's text, sent as LSP partial results of
`notebook/deserialize` and `notebook/serialize`."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest

from bridge.notebook.requests import DEFER_CHECK_CHARS

from bridge_client import BridgeClient, RpcError, outputs_by_reference
from codec.helpers import without_output_tokens

EMPTY = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def large_notebook(cells: int = 700) -> dict[str, Any]:
    """Over the size at which cells come in parts: code cells with a ~50 KB image each,
    markdown between them, a few odd cells (source as one string, no id, unknown type)."""
    png = base64.b64encode(bytes(range(256)) * 150).decode()
    found: list[dict[str, Any]] = []
    for number in range(cells):
        if number % 2:
            found.append({"cell_type": "markdown", "id": f"m{number}", "metadata": {},
                          "source": [f"# Part {number}\n", "text é😀"]})
            continue
        found.append({
            "cell_type": "code", "execution_count": number, "id": f"c{number}",
            "metadata": {"tags": ["t"]}, "source": f"print({number})\nx = {number}",
            "outputs": [
                {"output_type": "stream", "name": "stdout", "text": [f"{number}\n"] * 20},
                {"output_type": "display_data", "metadata": {},
                 "data": {"image/png": png, "text/plain": ["<Figure>"]}},
            ],
        })
    kernelspec = {"name": "python3", "display_name": "Python 3"}
    return {"cells": found, "metadata": {"kernelspec": kernelspec},
            "nbformat": 4, "nbformat_minor": 5}


def file_text(notebook: dict[str, Any]) -> str:
    text = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
    assert len(text) > DEFER_CHECK_CHARS
    return text


@pytest.mark.parametrize("how", ["text", "base64"])
async def test_the_parts_make_the_whole_result(bridge: BridgeClient, how: str) -> None:
    text = file_text(large_notebook())
    params = ({"content": text} if how == "text"
              else {"contentBase64": base64.b64encode(text.encode()).decode()})
    whole = await bridge.request("notebook/deserialize", params)
    reply, parts = await bridge.request_in_parts("notebook/deserialize", params)
    assert len(parts) > 10 and all(part["cells"] for part in parts)
    assert reply["notebook"]["cells"] == []
    assembled, count = await bridge.deserialize_in_parts(params)
    assert count == len(parts)
    assert without_output_tokens(assembled) == without_output_tokens(whole)
    assert assembled["warnings"] == []

    saved = await bridge.request("notebook/serialize", {"notebook": assembled["notebook"]})
    assert saved["content"] == text
    by_token = await bridge.request("notebook/serialize",
                                    {"notebook": outputs_by_reference(assembled["notebook"])})
    assert by_token["content"] == text


async def test_every_schema_problem_is_in_the_reply(bridge: BridgeClient) -> None:
    notebook = large_notebook()
    notebook["cells"][600]["outputs"][0]["output_type"] = "strem"
    notebook["cells"][40]["execution_count"] = "twelve"
    notebook["cells"][41]["id"] = notebook["cells"][43]["id"]
    result, parts = await bridge.deserialize_in_parts({"content": file_text(notebook)})
    assert parts > 1
    warnings = result["warnings"]
    assert [line.split(":")[1] for line in warnings if line.startswith("schema:")] == [
        " notebook.cells[40]", " notebook.cells[600]"], warnings
    assert any("'m43' is used by 2 cells" in line for line in warnings)
    assert result["notebook"]["cells"][600]["outputs"][0]["output_type"] == "strem"


async def test_a_small_notebook_comes_whole_even_when_parts_are_asked_for(
        bridge: BridgeClient) -> None:
    text = json.dumps(large_notebook(cells=4), indent=1)
    result, parts = await bridge.request_in_parts("notebook/deserialize", {"content": text})
    assert parts == []
    assert len(result["notebook"]["cells"]) == 4


async def test_other_requests_are_answered_between_the_parts(bridge: BridgeClient) -> None:
    text = file_text(large_notebook(cells=900))
    arrived = 0
    first = asyncio.Event()

    def on_part(value: Any) -> None:
        nonlocal arrived
        arrived += 1
        first.set()

    reading = asyncio.ensure_future(
        bridge.request_in_parts("notebook/deserialize", {"content": text}, on_part))
    await first.wait()
    small = await bridge.request("notebook/deserialize", {"content": EMPTY})
    answered_after = arrived
    assert small["notebook"]["cells"] == []
    _, parts = await reading
    assert answered_after < len(parts) - 5, (answered_after, len(parts))


@pytest.mark.parametrize("how", ["text", "base64"])
async def test_a_saved_file_comes_in_parts_that_make_the_whole_file(
        bridge: BridgeClient, how: str) -> None:
    text = file_text(large_notebook())
    notebook = (await bridge.request("notebook/deserialize", {"content": text}))["notebook"]
    encoding = {"encoding": "base64"} if how == "base64" else {}
    member = "contentBase64" if how == "base64" else "content"
    reply, parts = await bridge.request_in_parts("notebook/serialize",
                                                 {"notebook": notebook, **encoding})
    assert len(parts) > 10 and reply == {member: ""}
    if how == "base64":  # each part decodes on its own
        assert b"".join(base64.b64decode(part[member]) for part in parts) == text.encode()
    for sent in (notebook, outputs_by_reference(notebook)):
        saved, count = await bridge.serialize_in_parts({"notebook": sent, **encoding})
        assert count == len(parts)
        content = saved[member]
        assert (base64.b64decode(content).decode() if how == "base64" else content) == text


async def test_a_small_file_comes_whole_even_when_parts_are_asked_for(
        bridge: BridgeClient) -> None:
    notebook = (await bridge.request("notebook/deserialize", {"content": EMPTY}))["notebook"]
    saved, parts = await bridge.request_in_parts("notebook/serialize", {"notebook": notebook})
    assert parts == [] and saved == {"content": EMPTY}


@pytest.mark.parametrize("method", ["notebook/deserialize", "notebook/serialize"])
@pytest.mark.parametrize("token", [True, 1.5, {"a": 1}, ["x"]])
async def test_a_bad_token_is_a_clear_error(bridge: BridgeClient, method: str,
                                            token: Any) -> None:
    params = {"content": "{}"} if method == "notebook/deserialize" else {
        "notebook": json.loads(EMPTY)}
    with pytest.raises(RpcError) as bad:
        await bridge.request(method, {**params, "partialResultToken": token})
    assert bad.value.code == -32602 and "partialResultToken" in bad.value.message
