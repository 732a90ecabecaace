"""Driving the bridge's language features as an editor would, over the real client."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bridge_client import BridgeClient

NOTEBOOK_CAPABILITIES = {"notebookDocument": {"synchronization": {}}}


class Notebook:
    """One notebook synced with notebookDocument/*; cells addressed by index."""

    def __init__(self, client: BridgeClient, path: Path, cells: list[str],
                 languages: list[str] | None = None) -> None:
        """``languages``: each cell's languageId (all "python" when not given)."""
        self.client = client
        self.uri = path.as_uri()
        self.cell_uris = [f"vscode-notebook-cell:{path}#cell{index}"
                          for index in range(len(cells))]
        self.sources = list(cells)
        self.version = 1
        client.notify("notebookDocument/didOpen", {
            "notebookDocument": {
                "uri": self.uri, "notebookType": "nbbridge-notebook", "version": 1,
                "cells": [{"kind": 2, "document": uri} for uri in self.cell_uris],
            },
            "cellTextDocuments": [
                {"uri": uri, "languageId": language, "version": 1, "text": text}
                for uri, text, language in zip(self.cell_uris, cells,
                                               languages or ["python"] * len(cells),
                                               strict=True)
            ],
        })

    def edit(self, index: int, text: str) -> None:
        """Replace a cell's whole text, as an incremental change."""
        self.version += 1
        old = self.sources[index].split("\n")
        self.client.notify("notebookDocument/didChange", {
            "notebookDocument": {"uri": self.uri, "version": self.version},
            "change": {"cells": {"textContent": [{
                "document": {"uri": self.cell_uris[index], "version": self.version},
                "changes": [{"range": {"start": {"line": 0, "character": 0},
                                       "end": {"line": len(old) - 1,
                                               "character": utf16_len(old[-1])}},
                             "text": text}],
            }]}},
        })
        self.sources[index] = text

    async def start_kernel(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.client.request(
            "kernel/start", {"notebookUri": self.uri})
        return result

    async def complete(self, index: int, line: int, character: int) -> dict[str, Any]:
        result: dict[str, Any] = await self.client.request("textDocument/completion", {
            "textDocument": {"uri": self.cell_uris[index]},
            "position": {"line": line, "character": character},
        })
        return result

    async def complete_at_end(self, index: int) -> dict[str, Any]:
        line, character = self.end(index)
        return await self.complete(index, line, character)

    def end(self, index: int) -> tuple[int, int]:
        """The position after a cell's last character (UTF-16, as LSP counts)."""
        lines = self.sources[index].split("\n")
        return len(lines) - 1, utf16_len(lines[-1])

    async def hover(self, index: int, line: int, character: int) -> dict[str, Any] | None:
        result: dict[str, Any] | None = await self.client.request("textDocument/hover", {
            "textDocument": {"uri": self.cell_uris[index]},
            "position": {"line": line, "character": character},
        })
        return result


async def execute(client: BridgeClient, kernel_id: str, code: str,
                  execution_id: str = "run") -> dict[str, Any]:
    result: dict[str, Any] = await client.request("kernel/execute", {
        "kernelId": kernel_id, "code": code, "executionId": execution_id})
    assert result["status"] == "ok", result
    return result


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def labels(completions: dict[str, Any]) -> list[str]:
    return [item["label"] for item in completions["items"]]


def item(completions: dict[str, Any], label: str) -> dict[str, Any]:
    found = [entry for entry in completions["items"] if entry["label"] == label]
    assert found, f"{label!r} not among {labels(completions)}"
    return found[0]


async def complete_until(notebook: Notebook, index: int, label: str,
                         source: str | None = None, tries: int = 100) -> dict[str, Any]:
    """Ask again, as an editor does after an incomplete answer, until ``label`` shows
    (from ``source``, "jedi" or "kernel", when given)."""
    completions: dict[str, Any] = {}
    for _ in range(tries):
        completions = await notebook.complete_at_end(index)
        if any(entry["label"] == label
               and (source is None or source in entry["data"]["sources"])
               for entry in completions["items"]):
            return completions
        await asyncio.sleep(0.1)
    raise AssertionError(f"{label!r} never offered; last answer {labels(completions)}")
