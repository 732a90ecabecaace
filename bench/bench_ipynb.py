"""Open and save the 83 MB / 4000-cell notebook through the bridge, against nbformat.

Prints, measured in this one run: `notebook/deserialize` through a real JSON-RPC client
over the bridge's stdio pipes vs `nbformat.reads`, `notebook/serialize` vs
`nbformat.writes`, and the bridge's peak RSS.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from big_notebook import build
from bridge_client import BridgeClient

ROUNDS = 3


def timed(function: Callable[[], Any]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


async def timed_async(function: Callable[[], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await function()
    return time.perf_counter() - start


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def row(name: str, bridge: list[float], anchor_name: str, anchor: list[float],
        target: float) -> None:
    ours, theirs = statistics.median(bridge), statistics.median(anchor)
    ratio = ours / theirs
    verdict = "ok" if ratio <= target else "MISSED"
    print(f"{name}: bridge {ours * 1000:.0f} ms | {anchor_name} {theirs * 1000:.0f} ms | "
          f"ratio {ratio:.2f}x (target <= {target}x) {verdict}")


async def main() -> None:
    text = build()
    size_mb = len(text.encode()) / 1e6
    print(f"notebook: {size_mb:.1f} MB, 4000 cells; median of {ROUNDS} rounds each")
    node = nbformat.reads(text, as_version=4)
    reads = [timed(lambda: nbformat.reads(text, as_version=4)) for _ in range(ROUNDS)]
    writes = [timed(lambda: nbformat.writes(node)) for _ in range(ROUNDS)]

    client = await BridgeClient.start()
    await client.initialize()
    result: dict[str, Any] = {}

    async def deserialize() -> None:
        result.update(await client.request("notebook/deserialize", {"content": text}))

    opened = [await timed_async(deserialize) for _ in range(ROUNDS)]
    notebook = result["notebook"]
    saved: dict[str, Any] = {}

    async def serialize() -> None:
        saved.update(await client.request("notebook/serialize", {"notebook": notebook}))

    written = [await timed_async(serialize) for _ in range(ROUNDS)]
    assert saved["content"] == text, "round trip is not byte-identical"
    rss = peak_rss_mb(client.process.pid)
    await client.shutdown()

    row("deserialize 83MB (JSON-RPC, client parse included)", opened,
        "nbformat.reads", reads, 1.0)
    row("serialize 83MB (JSON-RPC, client parse included)", written,
        "nbformat.writes", writes, 0.5)
    print(f"bridge peak RSS: {rss:.0f} MB (file {size_mb:.0f} MB)")


if __name__ == "__main__":
    asyncio.run(main())
