"""Completion in notebook cells through a real bridge, real jedi and a real ipykernel."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import psutil
import pytest

from .helpers import (
    NOTEBOOK_CAPABILITIES,
    Notebook,
    complete_until,
    execute,
    item,
    labels,
)
from bridge_client import BridgeClient

DATAFRAME = 'import pandas\ndf = pandas.DataFrame({"alpha": [1]})'


# Deadlines no load on a shared machine can reach: a test that checks what the kernel
# knows must not depend on how fast it says it. The default deadlines have a test of
# their own (a kernel that cannot answer at all).
PATIENT = {"language": {"completionDeadlineMs": 5000, "hoverDeadlineMs": 10000}}


@pytest.fixture
async def client() -> AsyncIterator[BridgeClient]:
    bridge = await BridgeClient.start()
    await bridge.initialize(PATIENT, **NOTEBOOK_CAPABILITIES)
    yield bridge
    await bridge.shutdown()


@pytest.fixture
async def default_client() -> AsyncIterator[BridgeClient]:
    bridge = await BridgeClient.start()
    await bridge.initialize(**NOTEBOOK_CAPABILITIES)
    yield bridge
    await bridge.shutdown()


async def test_before_any_execution_jedi_names_come_from_every_cell(
        client: BridgeClient, tmp_path: Path) -> None:
    notebook = Notebook(client, tmp_path / "static.ipynb", [
        "import os\ndef summarize_rows(frame):\n    return len(frame)",
        "total_count = 3",
        "summ",
        "os.getc",
    ])
    names = await notebook.complete_at_end(2)
    assert not names["isIncomplete"]
    entry = item(names, "summarize_rows")
    assert entry["kind"] == 3  # Function
    assert entry["data"]["sources"] == ["jedi"]
    # the edit replaces the typed prefix, in the cell's own coordinates
    assert entry["textEdit"]["range"] == {"start": {"line": 0, "character": 0},
                                          "end": {"line": 0, "character": 4}}
    attributes = await notebook.complete_at_end(3)
    assert {"getcwd", "getcwdb"} <= set(labels(attributes))
    resolved = await client.request("completionItem/resolve", item(attributes, "getcwd"))
    assert "getcwd() -> str" in resolved["documentation"]["value"]


async def test_runtime_only_column_after_execution(client: BridgeClient,
                                                   tmp_path: Path) -> None:
    notebook = Notebook(client, tmp_path / "frame.ipynb", [DATAFRAME, "df.al"])
    kernel = await notebook.start_kernel()
    await execute(client, kernel["kernelId"], DATAFRAME)
    completions = await complete_until(notebook, 1, "alpha")
    alpha = item(completions, "alpha")
    assert alpha["data"]["sources"] == ["kernel"]
    assert alpha["textEdit"] == {"range": {"start": {"line": 0, "character": 3},
                                           "end": {"line": 0, "character": 5}},
                                 "newText": "alpha"}
    # jedi's static names of a DataFrame merge in once jedi has read pandas
    merged = await complete_until(notebook, 1, "align", source="jedi")
    assert "alpha" in labels(merged)
    assert labels(merged) == sorted(set(labels(merged)), key=labels(merged).index)  # no dupes
    resolved = await client.request("completionItem/resolve", item(merged, "alpha"))
    assert "Series" in resolved["documentation"]["value"]


async def test_completion_answers_while_a_cell_sleeps(client: BridgeClient,
                                                      tmp_path: Path) -> None:
    notebook = Notebook(client, tmp_path / "busy.ipynb",
                        [DATAFRAME, "import time\ntime.sleep(10)", "df.al"])
    kernel = await notebook.start_kernel()
    await execute(client, kernel["kernelId"], DATAFRAME)
    await complete_until(notebook, 2, "alpha")  # the kernel's completer is ready
    client.notifications["kernel/status"].clear()
    sleeping = asyncio.create_task(execute(client, kernel["kernelId"], notebook.sources[1],
                                           "sleep"))
    await client.wait_for_notification(
        "kernel/status", lambda status: status["state"] == "busy")
    completions = await notebook.complete_at_end(2)
    assert not sleeping.done(), "the answer must not wait for the running cell"
    # ipykernel 7 has subshells: the runtime name still arrives while the cell runs
    assert "kernel subshells" in kernel["supportedFeatures"]
    assert "alpha" in labels(completions)
    await client.request("kernel/interrupt", {"kernelId": kernel["kernelId"]})
    with pytest.raises(AssertionError):
        await sleeping  # interrupted: the cell ends in an error


async def test_a_kernel_that_cannot_answer_never_delays_the_answer(
        default_client: BridgeClient, tmp_path: Path) -> None:
    client = default_client
    notebook = Notebook(client, tmp_path / "frozen.ipynb", [DATAFRAME, "df.al"])
    kernel = await notebook.start_kernel()
    await execute(client, kernel["kernelId"], DATAFRAME)
    await complete_until(notebook, 1, "alpha")
    await complete_until(notebook, 1, "align", source="jedi")  # jedi has read pandas
    # A stopped process answers nothing, on no channel, subshell or not: the kernel that
    # never makes the deadline, whatever the load. (A word shorter than the one asked
    # before, so no reply to an earlier ask can serve it.)
    notebook.edit(1, "df.a")
    os.kill(kernel["pid"], signal.SIGSTOP)
    try:
        completions = await notebook.complete_at_end(1)
        hover = await client.request("textDocument/hover", {
            "textDocument": {"uri": notebook.cell_uris[1]},
            "position": {"line": 0, "character": 1}})
    finally:
        os.kill(kernel["pid"], signal.SIGCONT)
    assert "align" in labels(completions)  # jedi's answer went out alone
    assert "alpha" not in labels(completions)
    assert "DataFrame" in hover["contents"]["value"]  # jedi's static view of df
    assert "**Type:**" not in hover["contents"]["value"]  # nothing from the kernel
    # and once it runs again, the kernel is back in the answers
    await complete_until(notebook, 1, "alpha")


async def test_dead_kernel_leaves_jedi_answering(client: BridgeClient, tmp_path: Path) -> None:
    notebook = Notebook(client, tmp_path / "dead.ipynb",
                        ["import os\nfavourite_number = 7", "favourite_n"])
    kernel = await notebook.start_kernel()
    os.kill(kernel["pid"], signal.SIGKILL)
    await client.wait_for_notification(
        "kernel/status", lambda status: status["state"] == "dead")
    completions = await notebook.complete_at_end(1)
    assert not completions["isIncomplete"]
    assert item(completions, "favourite_number")["data"]["sources"] == ["jedi"]


async def test_hover_shows_the_runtime_object(client: BridgeClient, tmp_path: Path) -> None:
    notebook = Notebook(client, tmp_path / "hover.ipynb", [DATAFRAME, "df"])
    kernel = await notebook.start_kernel()
    await execute(client, kernel["kernelId"], DATAFRAME)
    hover = await client.request("textDocument/hover", {
        "textDocument": {"uri": notebook.cell_uris[1]},
        "position": {"line": 0, "character": 1}})
    text = hover["contents"]["value"]
    assert hover["contents"]["kind"] == "markdown"
    assert "**Type:** `DataFrame`" in text
    assert "alpha" in text  # the value's string form: only the running kernel knows it
    assert hover["range"] == {"start": {"line": 0, "character": 0},
                              "end": {"line": 0, "character": 2}}


async def test_hover_and_signature_help_from_jedi_without_kernel(
        client: BridgeClient, tmp_path: Path) -> None:
    notebook = Notebook(client, tmp_path / "sig.ipynb", [
        'def scale(value, factor=2):\n    """Multiply value by factor."""\n'
        "    return value * factor",
        "scale(1, ",
    ])
    signature = await client.request("textDocument/signatureHelp", {
        "textDocument": {"uri": notebook.cell_uris[1]},
        "position": {"line": 0, "character": 9}})
    assert signature["signatures"][0]["label"] == "scale(value, factor=2)"
    assert signature["activeParameter"] == 1
    hover = await client.request("textDocument/hover", {
        "textDocument": {"uri": notebook.cell_uris[1]},
        "position": {"line": 0, "character": 2}})
    assert "Multiply value by factor." in hover["contents"]["value"]


async def test_signature_help_falls_back_to_the_kernel(client: BridgeClient,
                                                       tmp_path: Path) -> None:
    # A callable made at run time: jedi cannot know its signature, the kernel can.
    made = "import functools\nexec('def built(alpha, beta, gamma=3): pass')"
    notebook = Notebook(client, tmp_path / "runtime_sig.ipynb", [made, "built(1, "])
    kernel = await notebook.start_kernel()
    await execute(client, kernel["kernelId"], made)
    signature = await client.request("textDocument/signatureHelp", {
        "textDocument": {"uri": notebook.cell_uris[1]},
        "position": {"line": 0, "character": 9}})
    assert signature["signatures"][0]["label"] == "built(alpha, beta, gamma=3)"
    assert [p["label"] for p in signature["signatures"][0]["parameters"]] == [
        "alpha", "beta", "gamma=3"]
    assert signature["activeParameter"] == 1


async def test_edits_are_followed(client: BridgeClient, tmp_path: Path) -> None:
    notebook = Notebook(client, tmp_path / "edits.ipynb", ["first_value = 1", "fir"])
    assert "first_value" in labels(await notebook.complete_at_end(1))
    notebook.edit(0, "renamed_value = 1")
    notebook.edit(1, "ren")
    completions = await notebook.complete_at_end(1)
    assert "renamed_value" in labels(completions)
    assert "first_value" not in labels(completions)


async def test_a_killed_jedi_worker_is_replaced(client: BridgeClient, tmp_path: Path) -> None:
    notebook = Notebook(client, tmp_path / "worker.ipynb", ["import os\nwidget_count = 1",
                                                           "widget_"])
    assert "widget_count" in labels(await notebook.complete_at_end(1))
    bridge = psutil.Process(client.process.pid)
    workers = [child for child in bridge.children(recursive=True)
               if "bridge.language.worker" in " ".join(child.cmdline())]
    assert len(workers) == 1
    workers[0].kill()
    workers[0].wait(30)
    notebook.edit(0, "import os\nwidget_total = 2")
    notebook.edit(1, "widget_t")
    await complete_until(notebook, 1, "widget_total")
