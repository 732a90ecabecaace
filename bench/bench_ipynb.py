"""Open and save the 83 MB / 4000-cell notebook through the bridge, against nbformat.

Prints, measured in this one run (rounds alternate between the bridge and the anchors):
`notebook/deserialize` through a real JSON-RPC client over the bridge's stdio pipes vs
`nbformat.reads` (cells as partial results, as the VS Code extension asks, and the whole
result in the reply, as a plain LSP client gets it), `notebook/serialize` vs
`nbformat.writes` (outputs sent in full, and unchanged outputs sent as the tokens the
read gave them, as the VS Code extension does; the file in partial results or whole
in the reply), each with the file as JSON text
(`content`) and as base64 bytes (`contentBase64`, what the VS Code extension sends), and
the bridge's peak RSS.

The measuring process keeps freed memory for reuse, as `nbbridge serve` does, for the
client and nbformat's anchors alike: on glibc's defaults every block over 32 MB (the
client's 85 MB reply buffer, the file's text as a str: 344 MB, 4 bytes a character as it
holds emoji; nbformat.writes' joined text) is a fresh mapping whose pages the kernel
zeroes on first touch, ~1 ms per MB on these machines, which measures the VM rather than
either codec. `--default-allocator` measures on glibc's defaults instead.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from bridge.large_work import keep_freed_memory

from big_notebook import build
from bridge_client import BridgeClient, outputs_by_reference, peak_rss_mb

ROUNDS = 5


def timed(function: Callable[[], Any]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def row(name: str, bridge: list[float], anchor_name: str, anchor: list[float],
        target: float) -> None:
    ours, theirs = statistics.median(bridge), statistics.median(anchor)
    ratio = ours / theirs
    verdict = "ok" if ratio <= target else "MISSED"
    print(f"{name}: bridge {ours * 1000:.0f} ms | {anchor_name} {theirs * 1000:.0f} ms | "
          f"ratio {ratio:.2f}x (target <= {target}x) {verdict}")


async def main(default_allocator: bool) -> None:
    kept = not default_allocator and keep_freed_memory()
    text = build()
    size_mb = len(text.encode()) / 1e6
    print(f"notebook: {size_mb:.1f} MB, 4000 cells; median of {ROUNDS} rounds each, the "
          "anchors measured in every round too")
    print("measuring process (client and anchors): "
          + ("freed memory kept for reuse, as the bridge does" if kept
             else "the C library's default allocator settings"))
    node = nbformat.reads(text, as_version=4)
    anchors: dict[str, list[float]] = {"reads": [], "writes": []}

    client = await BridgeClient.start()
    await client.initialize()
    raw = text.encode()
    encoded = base64.b64encode(raw).decode()
    transports = {
        "text": ({"content": text}, {}, lambda saved: saved["content"] == text),
        "base64": ({"contentBase64": encoded}, {"encoding": "base64"},
                   lambda saved: base64.b64decode(saved["contentBase64"]) == raw),
    }
    tiny = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    opened: dict[tuple[str, str], list[float]] = defaultdict(list)
    checks: dict[str, list[float]] = defaultdict(list)
    saves: dict[tuple[str, str], list[float]] = defaultdict(list)
    for _ in range(ROUNDS):
        anchors["reads"].append(timed(lambda: nbformat.reads(text, as_version=4)))
        anchors["writes"].append(timed(lambda: nbformat.writes(node)))
        for name, (open_params, save_params, identical) in transports.items():
            result: dict[str, Any] = {}
            for how, read in (("cells in parts", client.deserialize_in_parts),
                              ("whole reply", whole_reply(client, "notebook/deserialize"))):
                start = time.perf_counter()
                result, _ = await read(open_params)
                opened[name, how].append(time.perf_counter() - start)
                # The layout check of a large file runs after the reply; a save waits for it.
                start = time.perf_counter()
                await client.request("notebook/serialize", {"notebook": tiny})
                checks[name].append(time.perf_counter() - start)
            notebook = result.pop("notebook")
            for outputs, sent in (("outputs in full", notebook),
                                  ("unchanged outputs by token",
                                   outputs_by_reference(notebook))):
                for how, save in (("file in parts", client.serialize_in_parts),
                                  ("whole reply", whole_reply(client, "notebook/serialize"))):
                    start = time.perf_counter()
                    saved, _ = await save({"notebook": sent, **save_params})
                    saves[name, f"{outputs}, {how}"].append(time.perf_counter() - start)
                    assert identical(saved), f"{name}, {outputs}, {how}: not byte-identical"
                    del saved
                del sent
            del notebook, result
    rss = peak_rss_mb(client.process.pid)
    await client.shutdown()

    for name in transports:
        for how in ("cells in parts", "whole reply"):
            row(f"deserialize 83MB, {name}, {how} (JSON-RPC, client parse included)",
                opened[name, how], "nbformat.reads", anchors["reads"], 1.0)
        print(f"  layout check after the reply ({name}): "
              f"{statistics.median(checks[name]) * 1000:.0f} ms, off the reply's path")
        for how in sorted({how for transport, how in saves if transport == name}):
            row(f"serialize 83MB, {name}, {how} (JSON-RPC, client parse included)",
                saves[name, how], "nbformat.writes", anchors["writes"], 0.5)
    print(f"bridge peak RSS: {rss:.0f} MB (file {size_mb:.0f} MB)")


def whole_reply(client: BridgeClient, method: str) -> Callable[[dict[str, Any]],
                                                              Awaitable[tuple[Any, int]]]:
    """`method` as a client that asks for no partial results."""
    async def request(params: dict[str, Any]) -> tuple[Any, int]:
        return await client.request(method, params), 0
    return request


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--default-allocator", action="store_true",
                        help="measure with glibc's default settings in this process")
    asyncio.run(main(parser.parse_args().default_allocator))
