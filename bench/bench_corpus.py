"""Open and save many small notebooks through the bridge, against nbformat.

The real notebooks of ../shared/corpus (or $NBBRIDGE_CORPUS) that nbformat reads, and
generated typical ones (tens of cells, some outputs), each opened with
`notebook/deserialize` and saved with `notebook/serialize` by a real JSON-RPC client over
the bridge's pipes (the file as base64, as the VS Code extension sends it, client parse
included), against `nbformat.reads` + `nbformat.writes` of the same files. Every round
runs in fresh processes, as users run them (a warm one: the first call's set-up is left
out on both sides); rounds alternate which goes first; rows are medians. The floor row
is what the pipe alone costs: two requests per notebook that do nothing.
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
from pathlib import Path
from typing import Any

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from bridge_client import BridgeClient
from codec.helpers import corpus_files
from typical_notebooks import typical

ROUNDS = 5
TINY = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def anchor_round(texts: list[str]) -> dict[str, Any]:
    nbformat.writes(nbformat.reads(json.dumps(TINY), as_version=4))  # set-up, untimed
    times = []
    for text in texts:
        start = time.perf_counter()
        nbformat.writes(nbformat.reads(text, as_version=4))
        times.append(time.perf_counter() - start)
    return {"times": times}


async def bridge_round(texts: list[str]) -> dict[str, Any]:
    client = await BridgeClient.start()
    await client.initialize()
    await client.request("notebook/deserialize", {"content": json.dumps(TINY)})  # set-up
    times, floor = [], []
    for text in texts:
        raw = text.encode()
        start = time.perf_counter()
        opened = await client.request("notebook/deserialize",
                                      {"contentBase64": base64.b64encode(raw).decode()})
        saved = await client.request("notebook/serialize",
                                     {"notebook": opened["notebook"], "encoding": "base64"})
        times.append(time.perf_counter() - start)
        # an nbformat 2/3 file is upgraded: saved as nbformat 4, not as it was
        assert base64.b64decode(saved["contentBase64"]) == raw or (
            json.loads(text)["nbformat"] < 4), "not byte-identical"
        start = time.perf_counter()
        await client.request("notebook/serialize", {"notebook": TINY})
        await client.request("notebook/serialize", {"notebook": TINY})
        floor.append(time.perf_counter() - start)
    await client.shutdown()
    return {"times": times, "floor": floor}


def readable(paths: list[Path]) -> list[str]:
    texts = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
            nbformat.reads(text, as_version=4)
        except Exception:  # not a notebook nbformat reads: no anchor
            continue
        texts.append(text)
    return texts


def in_fresh_process(*args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, *args], check=True,
                          capture_output=True, text=True)
    found: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return found


def main() -> None:
    sets = {"corpus": readable(corpus_files()), "typical": typical()}
    with tempfile.TemporaryDirectory() as folder:
        for name, texts in sets.items():
            path = Path(folder) / f"{name}.json"
            path.write_text(json.dumps(texts), encoding="utf-8")
            sizes = sorted(len(text.encode()) for text in texts)
            print(f"{name}: {len(texts)} notebooks, {sizes[0] / 1e3:.1f} KB to "
                  f"{sizes[-1] / 1e3:.0f} KB (median {statistics.median(sizes) / 1e3:.0f} KB)")
            ours: list[float] = []
            theirs: list[float] = []
            floors: list[float] = []
            ratios: list[float] = []
            floor_ratios: list[float] = []
            for number in range(ROUNDS):
                jobs = [("--anchor-round", theirs), ("--bridge-round", ours)]
                found: dict[str, dict[str, Any]] = {}
                for flag, _ in jobs if number % 2 == 0 else reversed(jobs):
                    found[flag] = in_fresh_process(flag, str(path))
                bridge, anchor = found["--bridge-round"], found["--anchor-round"]
                ours.append(sum(bridge["times"]))
                theirs.append(sum(anchor["times"]))
                floors.append(sum(bridge["floor"]))
                ratios.extend(b / a for b, a in zip(bridge["times"], anchor["times"],
                                                     strict=True))
                floor_ratios.extend(f / a for f, a in zip(bridge["floor"], anchor["times"],
                                                          strict=True))
            mine, anchor_time = statistics.median(ours), statistics.median(theirs)
            ratio = mine / anchor_time
            print(f"deserialize + serialize, {name} (JSON-RPC, base64, client parse included): "
                  f"bridge {mine * 1000:.0f} ms | nbformat.reads + writes "
                  f"{anchor_time * 1000:.0f} ms | ratio {ratio:.2f}x (target <= 1.0x) "
                  f"{'ok' if ratio <= 1.0 else 'MISSED'}")
            print(f"  the pipe's floor (two empty requests a notebook): "
                  f"{statistics.median(floors) * 1000:.0f} ms = "
                  f"{statistics.median(floors) / anchor_time:.2f}x; per notebook, median "
                  f"ratio {statistics.median(ratios):.2f}x, of which the floor alone "
                  f"{statistics.median(floor_ratios):.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--anchor-round", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--bridge-round", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.anchor_round:
        print(json.dumps(anchor_round(json.loads(arguments.anchor_round.read_text()))))
    elif arguments.bridge_round:
        texts = json.loads(arguments.bridge_round.read_text())
        print(json.dumps(asyncio.run(bridge_round(texts))))
    else:
        main()
