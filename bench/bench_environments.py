"""How long `kernel/environments` takes to list this machine's Python environments.

Three figures, medians of alternating rounds: a bridge with an empty cache (every
interpreter asked, each a process start), a new bridge whose predecessors left their
cache on disk, and a second listing in the same bridge. The anchor is asking every
interpreter found once, in parallel, with no cache: what a listing costs without one.

    python bench/bench_environments.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from bridge_client import BridgeClient

LATE = "kernel/environmentsChanged"


async def listing(cache: str) -> tuple[float, float, float, int]:
    """In a new bridge: the first answer, the listing complete (late interpreters
    included), a second listing; and how many environments there are."""
    client = await BridgeClient.start(env={"XDG_CACHE_HOME": cache})
    try:
        await client.initialize()
        began = time.perf_counter()
        listed = await client.request("kernel/environments", {})
        answered = complete = time.perf_counter() - began
        with contextlib.suppress(TimeoutError):
            await client.wait_for_notification(LATE, timeout=5)
            listed = await client.request("kernel/environments", {})
            complete = time.perf_counter() - began
        began = time.perf_counter()
        await client.request("kernel/environments", {})
        again = time.perf_counter() - began
        return answered, complete, again, len(listed["environments"])
    finally:
        await client.shutdown()


async def main(rounds: int) -> None:
    rows: dict[str, list[float]] = {"first answer, no cache": [],
                                    "first answer, new bridge with the cache on disk": [],
                                    "second listing, same bridge": []}
    complete: list[float] = []
    count = 0
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as cache:
            answered, whole, again, count = await listing(cache)
            rows["first answer, no cache"].append(answered)
            complete.append(whole)
            rows["second listing, same bridge"].append(again)
            answered, _, again, _ = await listing(cache)
            rows["first answer, new bridge with the cache on disk"].append(answered)
            rows["second listing, same bridge"].append(again)
    base = statistics.median(complete)
    print(f"{count} environments; every interpreter asked (no cache): {base * 1000:.0f} ms")
    for label, samples in rows.items():
        value = statistics.median(samples)
        print(f"{label}: {value * 1000:.0f} ms | every interpreter asked {base * 1000:.0f} ms"
              f" | ratio {value / base:.2f}x (target: an answer within 300 ms)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args().rounds))
