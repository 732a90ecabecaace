"""`# %%` scripts over plain textDocument sync: kernel-backed completion and cell runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from .helpers import item, labels
from bridge_client import BridgeClient, RpcError

SCRIPT = """import pandas
# %%
df = pandas.DataFrame({"alpha": [1, 2]})
print("rows", len(df))
df.shape
# %% [markdown]
# Notes, not code
# %%
df.al
"""


@pytest.fixture
async def client() -> AsyncIterator[BridgeClient]:
    bridge = await BridgeClient.start()
    # a kernel answer must not depend on the load of a shared machine
    await bridge.initialize({"language": {"completionDeadlineMs": 5000}})
    yield bridge
    await bridge.shutdown()


def open_script(client: BridgeClient, path: Path, text: str) -> str:
    path.write_text(text)
    uri = path.as_uri()
    client.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": text}})
    return uri


async def run_cell(client: BridgeClient, uri: str, line: int) -> dict[str, Any]:
    result: dict[str, Any] = await client.request("workspace/executeCommand", {
        "command": "nbbridge.runCell",
        "arguments": [{"textDocument": {"uri": uri}, "position": {"line": line,
                                                                 "character": 0}}]})
    return result


async def test_run_cell_then_complete_with_the_kernel(client: BridgeClient,
                                                      tmp_path: Path) -> None:
    uri = open_script(client, tmp_path / "analysis.py", SCRIPT)
    before = await client.request("textDocument/completion", {
        "textDocument": {"uri": uri}, "position": {"line": 8, "character": 5}})
    assert "alpha" not in labels(before)  # no kernel yet: jedi alone

    first = await run_cell(client, uri, 0)
    assert first["cells"][0]["status"] == "ok"
    second = await run_cell(client, uri, 3)
    cell = second["cells"][0]
    assert cell["cell"]["startLine"] == 2
    assert cell["status"] == "ok"
    assert cell["outputs"][0] == {"output_type": "stream", "name": "stdout",
                                  "text": "rows 2\n"}
    assert cell["outputs"][1]["data"]["text/plain"] == "(2, 1)"
    assert cell["text"] == "rows 2\n(2, 1)\n"
    reported = await client.wait_for_notification(
        "script/cellResult", lambda result: result["executionId"] == cell["executionId"])
    assert reported["outputs"] == cell["outputs"]
    logged = await client.wait_for_notification(
        "window/logMessage", lambda message: "(2, 1)" in message["message"])
    assert "analysis.py cell 2" in logged["message"]
    streamed = [op for params in client.notifications["kernel/output"]
                if params["executionId"] == cell["executionId"] for op in params["ops"]]
    assert {"op": "appendText", "name": "stdout", "text": "rows 2\n"} in streamed

    completions = await client.request("textDocument/completion", {
        "textDocument": {"uri": uri}, "position": {"line": 8, "character": 5}})
    alpha = item(completions, "alpha")
    assert "kernel" in alpha["data"]["sources"]
    assert alpha["textEdit"]["range"] == {"start": {"line": 8, "character": 3},
                                          "end": {"line": 8, "character": 5}}


async def test_run_file_stops_at_the_first_error(client: BridgeClient,
                                                 tmp_path: Path) -> None:
    text = "x = 1\n# %%\nraise ValueError('stop here')\n# %%\nprint('never')\n"
    uri = open_script(client, tmp_path / "failing.py", text)
    result = await client.request("workspace/executeCommand", {
        "command": "nbbridge.runFile", "arguments": [uri]})
    assert [cell["status"] for cell in result["cells"]] == ["ok", "error"]
    assert "ValueError: stop here" in result["cells"][1]["text"]
    assert "\x1b[" not in result["cells"][1]["text"]


async def test_commands_name_bad_arguments(client: BridgeClient, tmp_path: Path) -> None:
    with pytest.raises(RpcError, match="arguments must be"):
        await client.request("workspace/executeCommand", {
            "command": "nbbridge.runCell", "arguments": []})
    with pytest.raises(RpcError, match="not open"):
        await client.request("workspace/executeCommand", {
            "command": "nbbridge.runFile", "arguments": [(tmp_path / "x.py").as_uri()]})
    uri = open_script(client, tmp_path / "y.py", "x = 1\n")
    with pytest.raises(RpcError, match="position"):
        await client.request("workspace/executeCommand", {
            "command": "nbbridge.runCell", "arguments": [uri]})
    with pytest.raises(RpcError, match="names no document uri"):
        await client.request("workspace/executeCommand", {
            "command": "nbbridge.runCell", "arguments": [42]})


async def test_commands_without_arguments_use_the_last_edit(client: BridgeClient,
                                                            tmp_path: Path) -> None:
    # Helix's `:lsp-workspace-command` sends no arguments.
    uri = open_script(client, tmp_path / "helix.py", "a = 1\n# %%\nb = 2\nb\n")
    client.notify("textDocument/didChange", {
        "textDocument": {"uri": uri, "version": 2},
        "contentChanges": [{"range": {"start": {"line": 3, "character": 0},
                                      "end": {"line": 3, "character": 1}},
                            "text": "b * 10"}]})
    result = await client.request("workspace/executeCommand", {
        "command": "nbbridge.runCell", "arguments": []})
    cell = result["cells"][0]
    assert cell["cell"]["startLine"] == 2
    assert cell["outputs"][0]["data"]["text/plain"] == "20"


async def test_bad_language_settings_are_shown_to_the_user() -> None:
    bridge = await BridgeClient.start()
    try:
        await bridge.initialize({"language": {"completionDeadlineMs": "soon"}})
        shown = await bridge.wait_for_notification("window/showMessage")
        assert "completionDeadlineMs must be a number of milliseconds" in shown["message"]
    finally:
        await bridge.shutdown()
