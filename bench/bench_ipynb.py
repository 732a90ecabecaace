"""Open and save the 83 MB / 4000-cell notebook through the bridge, against nbformat.

Prints, measured in this one run: `notebook/deserialize` through a real JSON-RPC client
over the bridge's stdio pipes vs `nbformat.reads` (cells as partial results, as the VS
Code extension asks, and the whole result in the reply, as a plain LSP client gets it),
`notebook/serialize` vs `nbformat.writes` (outputs sent in full, and unchanged outputs
sent as the tokens the read gave them, as the VS Code extension does; the file in
partial results or whole in the reply), each with the file as JSON text (`content`) and
as base64 bytes (`contentBase64`, what the VS Code extension sends), and the bridge's
peak RSS.

Every round runs in fresh processes, as users run them: one process times
`nbformat.reads` and `nbformat.writes` on the file, another starts a client and a bridge
and times each request once; rounds alternate which goes first, and the rows are
medians. A process that has already built and kept hundreds of MB of earlier results
would time nbformat (and the client) slower than anyone runs them.

The client process keeps freed memory for reuse, as `nbbridge serve` does: on glibc's
defaults every block over 32 MB (the client's 85 MB reply buffer) is a fresh mapping
whose pages the kernel zeroes on first touch, ~1 ms per MB on these machines, which
measures the VM rather than the codec. `--default-allocator` measures the client on
glibc's defaults instead. The anchors run on the defaults, as nbformat's users run it.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import nbformat
import orjson

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


def anchor_round(path: Path) -> dict[str, Any]:
    """One round of nbformat, in this (fresh) process: reads, then writes what it read;
    before it, the parse floor: orjson on the file's UTF-8 bytes (what the bridge
    parses), and writing that back."""
    raw = path.read_bytes()
    start = time.perf_counter()
    parsed = orjson.loads(raw)
    parse = time.perf_counter() - start
    start = time.perf_counter()
    orjson.dumps(parsed)
    dump = time.perf_counter() - start
    del parsed
    text = raw.decode()
    del raw
    start = time.perf_counter()
    node = nbformat.reads(text, as_version=4)
    reads = time.perf_counter() - start
    start = time.perf_counter()
    nbformat.writes(node)
    return {"reads": reads, "writes": time.perf_counter() - start, "parse": parse,
            "dump": dump}


async def bridge_round(text: str, kept: bool) -> dict[str, Any]:
    """One round through a fresh bridge, from this (fresh) client process."""
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
    times: dict[str, float] = {}
    for name, (open_params, save_params, identical) in transports.items():
        result: dict[str, Any] = {}
        for how, read in (("cells in parts", client.deserialize_in_parts),
                          ("whole reply", whole_reply(client, "notebook/deserialize"))):
            start = time.perf_counter()
            result, _ = await read(open_params)
            times[f"open|{name}|{how}"] = time.perf_counter() - start
            # The layout check of a large file runs after the reply; a save waits for it.
            start = time.perf_counter()
            await client.request("notebook/serialize", {"notebook": tiny})
            times[f"check|{name}"] = time.perf_counter() - start
        notebook = result.pop("notebook")
        for outputs, sent in (("outputs in full", notebook),
                              ("unchanged outputs by token", outputs_by_reference(notebook))):
            for how, save in (("file in parts", client.serialize_in_parts),
                              ("whole reply", whole_reply(client, "notebook/serialize"))):
                start = time.perf_counter()
                saved, _ = await save({"notebook": sent, **save_params})
                times[f"save|{name}|{outputs}, {how}"] = time.perf_counter() - start
                assert identical(saved), f"{name}, {outputs}, {how}: not byte-identical"
                del saved
            del sent
        del notebook, result
    rss = peak_rss_mb(client.process.pid)
    await client.shutdown()
    return {"times": times, "rss": rss, "kept": kept}


def in_fresh_process(*args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, *args], check=True,
                          capture_output=True, text=True)
    found: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return found


def main(default_allocator: bool) -> None:
    text = build()
    size_mb = len(text.encode()) / 1e6
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.ipynb"
        path.write_text(text, encoding="utf-8")
        del text
        print(f"notebook: {size_mb:.1f} MB, 4000 cells; median of {ROUNDS} rounds, each "
              "round in fresh processes (nbformat's and the bridge's, alternating)")
        anchors: dict[str, list[float]] = defaultdict(list)
        bridge: dict[str, list[float]] = defaultdict(list)
        rss: list[float] = []
        kept = False
        bridge_args = ["--bridge-round", str(path)]
        if default_allocator:
            bridge_args.append("--default-allocator")
        for number in range(ROUNDS):
            jobs = [["--anchor-round", str(path)], bridge_args]
            for args in jobs if number % 2 == 0 else reversed(jobs):
                found = in_fresh_process(*args)
                if args is bridge_args:
                    for name, value in found["times"].items():
                        bridge[name].append(value)
                    rss.append(found["rss"])
                    kept = found["kept"]
                else:
                    for name, value in found.items():
                        anchors[name].append(value)
    print("client process: " + ("freed memory kept for reuse, as the bridge does" if kept
                                else "the C library's default allocator settings"))
    for name in ("text", "base64"):
        for how in ("cells in parts", "whole reply"):
            row(f"deserialize 83MB, {name}, {how} (JSON-RPC, client parse included)",
                bridge[f"open|{name}|{how}"], "nbformat.reads", anchors["reads"], 1.0)
        print(f"  layout check after the reply ({name}): "
              f"{statistics.median(bridge[f'check|{name}']) * 1000:.0f} ms, off the reply's "
              "path")
        for key in sorted(key for key in bridge if key.startswith(f"save|{name}|")):
            row(f"serialize 83MB, {name}, {key.split('|')[2]} (JSON-RPC, client parse "
                "included)", bridge[key], "nbformat.writes", anchors["writes"], 0.5)
    parse, dump = statistics.median(anchors["parse"]), statistics.median(anchors["dump"])
    reads, writes = statistics.median(anchors["reads"]), statistics.median(anchors["writes"])
    print(f"floor of a deserialize, the file parsed by the bridge and the cells by the "
          f"client (orjson.loads of the UTF-8 bytes {parse * 1000:.0f} ms each, nothing else): "
          f"{2 * parse * 1000:.0f} ms = {2 * parse / reads:.2f}x nbformat.reads")
    print(f"floor of a serialize with outputs in full, the notebook written by the client "
          f"and parsed by the bridge (orjson.dumps {dump * 1000:.0f} ms + loads): "
          f"{(dump + parse) * 1000:.0f} ms = {(dump + parse) / writes:.2f}x nbformat.writes")
    print(f"bridge peak RSS: {max(rss):.0f} MB (file {size_mb:.0f} MB)")


def whole_reply(client: BridgeClient, method: str) -> Callable[[dict[str, Any]],
                                                              Awaitable[tuple[Any, int]]]:
    """`method` as a client that asks for no partial results."""
    async def request(params: dict[str, Any]) -> tuple[Any, int]:
        return await client.request(method, params), 0
    return request


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--default-allocator", action="store_true",
                        help="measure the client with glibc's default settings")
    parser.add_argument("--anchor-round", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--bridge-round", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.anchor_round:
        print(json.dumps(anchor_round(arguments.anchor_round)))
    elif arguments.bridge_round:
        kept = not arguments.default_allocator and keep_freed_memory()
        text = arguments.bridge_round.read_text(encoding="utf-8")
        print(json.dumps(asyncio.run(bridge_round(text, kept))))
    else:
        main(arguments.default_allocator)
