"""Completion latency while typing in a notebook cell, against its anchors.

A cell is typed one keystroke at a time (notebookDocument/didChange, then
textDocument/completion at the cursor), with the notebook's setup cells executed on its
kernel. Anchors measured in the same run, on the same keystrokes: a raw kernel's
complete_request over jupyter_client (IPython as it ships, on its own kernel) and jedi
alone (a fresh jedi.Script per keystroke, as a jedi-only language server does). Rounds
interleave the three so load on a shared machine hits all alike.

Then the same typing while a cell sleeps 10 s on each kernel: the bridge asks a subshell
or gives up on the kernel at its deadline; the raw kernel's shell answers only when the
cell is done.

    python bench/bench_complete.py [--rounds 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from pathlib import Path

import jedi
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from bridge_client import BridgeClient

SETUP = ('import os, json, collections\nimport pandas as pd\n'
         'df = pd.DataFrame({"alpha": [1, 2], "beta": [3, 4]})\n'
         'def helper_total(values):\n    return sum(values)')
# What gets typed, one character at a time, each after a fresh line.
TYPED = ["df.alpha", "os.path.join", "json.dumps", "helper_total"]
SLEEP = "import time\ntime.sleep(10)"


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def row(label: str, ours: float, anchor_name: str, anchor: float, target: str) -> str:
    return (f"{label}: bridge {ours:.1f} ms | {anchor_name} {anchor:.1f} ms | "
            f"ratio {ours / anchor:.2f}x (target {target})")


def keystrokes() -> list[str]:
    """The cell's text after each keystroke."""
    texts = []
    for word in TYPED:
        texts.extend(word[:length] for length in range(1, len(word) + 1))
    return texts


# ------------------------------------------------------------------ anchors
async def raw_kernel() -> tuple[AsyncKernelManager, AsyncKernelClient]:
    manager = AsyncKernelManager(transport="ipc")
    await manager.start_kernel()
    client = manager.client()
    client.start_channels()
    await client.wait_for_ready(timeout=60)
    return manager, client


async def raw_complete(client: AsyncKernelClient, code: str) -> None:
    msg_id = client.complete(code, len(code))
    while (await client.get_shell_msg())["parent_header"].get("msg_id") != msg_id:
        pass


async def raw_complete_many(client: AsyncKernelClient, codes: list[str]) -> list[float]:
    """Ask all at once (one reader on the shell channel); each one's latency."""
    started = time.perf_counter()
    waiting = {client.complete(code, len(code)) for code in codes}
    latencies = []
    while waiting:
        msg_id = (await client.get_shell_msg())["parent_header"].get("msg_id")
        if msg_id in waiting:
            waiting.discard(msg_id)
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


async def raw_execute(client: AsyncKernelClient, code: str) -> None:
    msg_id = client.execute(code)
    while (await client.get_shell_msg())["parent_header"].get("msg_id") != msg_id:
        pass


def jedi_complete(program: str) -> None:
    lines = program.split("\n")
    jedi.Script(program, path="/tmp/bench.ipynb").complete(len(lines), len(lines[-1]))


# ------------------------------------------------------------------ the bridge
class TypingCell:
    def __init__(self, client: BridgeClient, folder: Path) -> None:
        self.client = client
        self.uri = (folder / "bench.ipynb").as_uri()
        self.cells = [f"vscode-notebook-cell:{folder}/bench.ipynb#{i}" for i in range(3)]
        self.version = 1
        self.text = ""
        client.notify("notebookDocument/didOpen", {
            "notebookDocument": {"uri": self.uri, "notebookType": "nbbridge-notebook",
                                 "version": 1,
                                 "cells": [{"kind": 2, "document": c} for c in self.cells]},
            "cellTextDocuments": [
                {"uri": uri, "languageId": "python", "version": 1, "text": text}
                for uri, text in zip(self.cells, [SETUP, SLEEP, ""], strict=True)],
        })

    async def type(self, text: str) -> float:
        """Change the cell to ``text`` and time the completion request at its end."""
        self.version += 1
        self.client.notify("notebookDocument/didChange", {
            "notebookDocument": {"uri": self.uri, "version": self.version},
            "change": {"cells": {"textContent": [{
                "document": {"uri": self.cells[2], "version": self.version},
                "changes": [{"text": text}]}]}},
        })
        self.text = text
        started = time.perf_counter()
        await self.client.request("textDocument/completion", {
            "textDocument": {"uri": self.cells[2]},
            "position": {"line": 0, "character": len(text)}})
        return (time.perf_counter() - started) * 1000


async def measure(rounds: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in (
        "bridge", "raw", "jedi", "bridge busy", "raw busy")}
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"nbbridge-bench-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    client = await BridgeClient.start()
    manager, raw = await raw_kernel()
    try:
        await client.initialize(notebookDocument={"synchronization": {}})
        cell = TypingCell(client, folder)
        kernel = await client.request("kernel/start", {"notebookUri": cell.uri})
        await client.request("kernel/execute", {"kernelId": kernel["kernelId"],
                                                "code": SETUP, "executionId": "setup"})
        await raw_execute(raw, SETUP)
        texts = keystrokes()
        # Warm-up: jedi reads pandas once, every process imports what it needs.
        for text in texts:
            await cell.type(text)
        for word in TYPED:
            await raw_complete(raw, word)
            await asyncio.to_thread(jedi_complete, SETUP + "\n" + word)

        for _ in range(rounds):
            for text in texts:
                samples["bridge"].append(await cell.type(text))
                started = time.perf_counter()
                await raw_complete(raw, text)
                samples["raw"].append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                await asyncio.to_thread(jedi_complete, SETUP + "\n" + text)
                samples["jedi"].append((time.perf_counter() - started) * 1000)

        # Busy: both kernels sleep 10 s; type through it.
        sleeping = asyncio.create_task(client.request(
            "kernel/execute", {"kernelId": kernel["kernelId"], "code": SLEEP,
                               "executionId": "sleep"}))
        raw.execute(SLEEP)
        busy_started = time.perf_counter()
        raw_waits = asyncio.create_task(raw_complete_many(raw, texts[:5]))
        for text in texts:
            if time.perf_counter() - busy_started > 8:
                break
            samples["bridge busy"].append(await cell.type(text))
        assert not sleeping.done(), "the sleeping cell ended before the busy typing did"
        samples["raw busy"] = await raw_waits
        await sleeping
    finally:
        await client.shutdown()
        raw.stop_channels()
        await manager.shutdown_kernel(now=True)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 1)))
    args = parser.parse_args()
    samples = asyncio.run(measure(args.rounds))
    count = len(samples["bridge"])
    print(f"completion while typing: {count} keystrokes idle, "
          f"{len(samples['bridge busy'])} while a cell sleeps")
    for label, fraction, target in (("p50", 0.5, "<= 15 ms"), ("p99", 0.99, "<= 60 ms")):
        ours = percentile(samples["bridge"], fraction)
        print(row(f"completion idle {label}", ours, "raw kernel complete_request",
                  percentile(samples["raw"], fraction), target))
        print(row(f"completion idle {label}", ours, "jedi alone",
                  percentile(samples["jedi"], fraction), target))
    ours = percentile(samples["bridge busy"], 0.99)
    print(row("completion busy p99", ours, "raw kernel complete_request",
              percentile(samples["raw busy"], 0.99), "<= 100 ms"))
    # jedi alone knows no kernel: its idle samples are its busy ones
    print(row("completion busy p99", ours, "jedi alone",
              percentile(samples["jedi"], 0.99), "<= 100 ms"))


if __name__ == "__main__":
    main()
