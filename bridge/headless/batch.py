"""Several notebooks at once (`nbbridge run A B --jobs N`): each on a kernel of its own
from one registry, each written as it finishes, one Ctrl-C handler for all of them."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from typing import TextIO

from bridge.headless.exits import EXIT_INTERRUPTED
from bridge.headless.run import NotebookRun, RunOptions, RunOutcome
from bridge.kernels.registry import KernelRegistry

Report = Callable[[RunOptions, RunOutcome], None]


async def run_notebooks(runs: list[RunOptions], jobs: int, stream: TextIO,
                        report: Report) -> list[RunOutcome]:
    """Run every notebook, `jobs` at a time; `report` hears of each as it ends."""
    registry = KernelRegistry(on_status=lambda status: None)
    slots = asyncio.Semaphore(max(jobs, 1))
    running: set[NotebookRun] = set()
    interrupted = False

    def on_interrupt() -> None:
        nonlocal interrupted
        interrupted = True
        for run in list(running):
            run.on_interrupt()

    async def one(options: RunOptions) -> RunOutcome:
        async with slots:
            if interrupted:  # Ctrl-C stops the runs under way and starts no other
                outcome = RunOutcome(EXIT_INTERRUPTED, "interrupted before it started; "
                                                       "nothing was written")
            else:
                run = NotebookRun(options, stream, registry)
                running.add(run)
                try:
                    outcome = await run.run()
                finally:
                    running.discard(run)
        report(options, outcome)
        return outcome

    loop = asyncio.get_running_loop()
    # Ctrl-C interrupts the kernels instead of ending the process, until what ran has
    # been written
    loop.add_signal_handler(signal.SIGINT, on_interrupt)
    try:
        return list(await asyncio.gather(*(one(options) for options in runs)))
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        await registry.shutdown_all()
