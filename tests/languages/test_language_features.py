"""Completion and hover in notebook cells of every language, from the notebook's own
kernel, through a real bridge and real kernels; Python cells keep jedi."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bridge_client import BridgeClient
from conftest import kernel_env, require_kernel
from kernel_helpers import ops_of, queue, run, wait_until
from language.helpers import (
    NOTEBOOK_CAPABILITIES,
    Notebook,
    complete_until,
    item,
    labels,
    utf16_len,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

# Deadlines no load can reach for the tests of what the kernel knows (see
# tests/language/test_notebook_completion.py); one test keeps the defaults.
PATIENT = {"language": {"completionDeadlineMs": 5000, "hoverDeadlineMs": 10000}}


@dataclass(frozen=True)
class Language:
    kernel: str
    cell_language: str  # the cell's languageId, as VS Code names the language
    define: str  # code that defines `name`
    typed: str  # a cell that ends in the start of `name`, after a line with an emoji
    name: str  # what the kernel offers for `typed` (bash: with its `$`)
    hover: str | None  # in the kernel's inspect text when hovering `name` (None: no inspect)
    long: str  # code that prints "started", then runs until interrupted


LANGUAGES = {
    "bash": Language(
        "bash", "shellscript", "answer_value=42", 'echo "😀"\necho "é😀" $answer_v',
        "$answer_value", None, "echo started; sleep 60"),
    "ir": Language(
        "ir", "r", "answer_value <- 42", 'x <- "😀"\ny <- "é😀"; answer_v', "answer_value",
        "Printed form", 'cat("started\\n"); Sys.sleep(60)'),
    "deno": Language(
        "deno", "typescript", "var answerValue = 42;", 'const x = "😀";\nx + "é😀"; answerV',
        "answerValue", None, 'console.log("started"); while (true) {}'),
    # a Python kernel that is not IPython: jedi for its cells, but no IPython set-up
    "xpython": Language(
        "xpython", "python", "exec('answer_value = 42')", 'x = "😀"\ny = "é😀"; answer_v',
        "answer_value", "**Type:** `int`",
        "import time\nprint('started', flush=True)\ntime.sleep(60)"),
}


@pytest.fixture(params=sorted(LANGUAGES), scope="module")
def lang(request: pytest.FixtureRequest) -> Language:
    require_kernel(request.param)
    return LANGUAGES[str(request.param)]


async def _bridge(options: dict[str, Any] | None) -> BridgeClient:
    client = await BridgeClient.start(env=kernel_env())
    await client.initialize(options, **NOTEBOOK_CAPABILITIES)
    return client


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def patient() -> AsyncIterator[BridgeClient]:
    client = await _bridge(PATIENT)
    yield client
    await client.shutdown()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def default() -> AsyncIterator[BridgeClient]:
    client = await _bridge(None)
    yield client
    await client.shutdown()


async def _notebook(client: BridgeClient, tmp_path: Path, lang: Language,
                    cells: list[str]) -> tuple[Notebook, str]:
    """A notebook of the language's cells, its kernel started and `define` run."""
    notebook = Notebook(client, tmp_path / f"{lang.kernel}.ipynb", cells,
                        [lang.cell_language] * len(cells))
    kernel = await client.request("kernel/start", {"kernelName": lang.kernel,
                                                   "notebookUri": notebook.uri})
    kid = str(kernel["kernelId"])
    cell = await run(client, kid, lang.define)
    assert cell.status == "ok", cell.outputs
    # idle follows the run's reply: a kernel without subshells is asked only then
    await wait_until(lambda: [status["state"] for status in client.notifications["kernel/status"]
                              if status["kernelId"] == kid][-1:] == ["idle"])
    return notebook, kid


async def test_completion_lists_the_kernels_names(patient: BridgeClient, tmp_path: Path,
                                                  lang: Language) -> None:
    notebook, kid = await _notebook(patient, tmp_path, lang, [lang.define, lang.typed])
    try:
        completions = await complete_until(notebook, 1, lang.name, source="kernel")
        found = item(completions, lang.name)
        # the edit replaces the typed part of the name, counted in UTF-16 as LSP counts
        last_line = lang.typed.split("\n")[-1]
        start = utf16_len(last_line[:last_line.rindex(lang.name[:3])])
        assert found["textEdit"] == {
            "range": {"start": {"line": 1, "character": start},
                      "end": {"line": 1, "character": utf16_len(last_line)}},
            "newText": lang.name}
        resolved = await patient.request("completionItem/resolve", found)
        if lang.hover is not None:
            assert lang.hover in resolved["documentation"]["value"]
    finally:
        await patient.request("kernel/shutdown", {"kernelId": kid})


async def test_hover_shows_the_kernels_inspect_text(patient: BridgeClient, tmp_path: Path,
                                                    lang: Language) -> None:
    used = lang.name.lstrip("$")
    notebook, kid = await _notebook(patient, tmp_path, lang, [lang.define, f"{used}\n"])
    try:
        hover = await notebook.hover(1, 0, 2)
        if lang.hover is None:
            assert hover is None  # the kernel has no inspect_request, and no jedi here
            return
        assert hover is not None
        assert hover["contents"]["kind"] == "markdown"
        assert lang.hover in hover["contents"]["value"]
        assert "\x1b[" not in hover["contents"]["value"] and "\b" not in hover["contents"]["value"]
        assert hover["range"] == {"start": {"line": 0, "character": 0},
                                  "end": {"line": 0, "character": len(used)}}
    finally:
        await patient.request("kernel/shutdown", {"kernelId": kid})


async def test_python_cells_keep_jedi(patient: BridgeClient, tmp_path: Path,
                                      lang: Language) -> None:
    # a Python notebook in the same bridge as the other language's notebook
    other, kid = await _notebook(patient, tmp_path, lang, [lang.define, lang.typed])
    try:
        python = Notebook(patient, tmp_path / "python.ipynb", ["import os\nos.getc"])
        names = await python.complete_at_end(0)
        assert item(names, "getcwd")["data"]["sources"] == ["jedi"]
        if lang.cell_language == "python":
            # the kernel's own Python cells get jedi too, merged with the kernel's names
            other.edit(1, "import os\nos.getc")
            merged = await complete_until(other, 1, "getcwd", source="kernel")
            assert "jedi" in item(merged, "getcwd")["data"]["sources"]
        else:
            await complete_until(other, 1, lang.name, source="kernel")
            # no jedi in another language's cell: nothing but the kernel's names
            assert all(entry["data"]["sources"] == ["kernel"]
                       for entry in (await other.complete_at_end(1))["items"])
    finally:
        await patient.request("kernel/shutdown", {"kernelId": kid})


async def test_a_busy_kernel_never_holds_the_answer(default: BridgeClient, tmp_path: Path,
                                                    lang: Language) -> None:
    notebook, kid = await _notebook(default, tmp_path, lang, [lang.define, lang.typed])
    try:
        await complete_until(notebook, 1, lang.name, source="kernel")
        default.notifications["kernel/status"].clear()
        long = await queue(default, kid, lang.long, executionId=f"long-{lang.kernel}")
        await wait_until(lambda: any(status["kernelId"] == kid and status["state"] == "busy"
                                     for status in default.notifications["kernel/status"]))
        completions = await notebook.complete_at_end(1)
        assert not long.done(), "the answer must not wait for the running cell"
        # none of these kernels completes beside a running cell: nothing from it now,
        # and the editor is told to ask again
        assert all("kernel" not in entry["data"]["sources"]
                   for entry in completions["items"])
        assert completions["isIncomplete"]
        hover = await notebook.hover(1, *notebook.end(1))
        assert hover is None or lang.cell_language == "python"
        # interrupted once inside the cell's code (R dies of a signal before it)
        await wait_until(lambda: "started" in str(ops_of(default, f"long-{lang.kernel}")))
        await default.request("kernel/interrupt", {"kernelId": kid})
        cell = await long
        assert cell.status == "error"
        # the running cell's output got nothing of the completion
        assert lang.name.lstrip("$") not in cell.text()
        await complete_until(notebook, 1, lang.name, source="kernel")
    finally:
        await default.request("kernel/shutdown", {"kernelId": kid})


async def test_default_deadlines_still_bring_the_kernels_names(
        default: BridgeClient, tmp_path: Path, lang: Language) -> None:
    # bash_kernel needs more than the default 80 ms to answer: its reply then serves the
    # next ask, while the word is still the one it completed
    notebook, kid = await _notebook(default, tmp_path, lang, [lang.define, lang.typed])
    try:
        completions = await complete_until(notebook, 1, lang.name, source="kernel")
        assert lang.name in labels(completions)
        # one more letter typed: the name is still offered, from the kernel
        notebook.edit(1, lang.typed + lang.name[len(lang.typed.split()[-1])])
        await complete_until(notebook, 1, lang.name, source="kernel")
    finally:
        await default.request("kernel/shutdown", {"kernelId": kid})
