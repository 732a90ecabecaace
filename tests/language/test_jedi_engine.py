"""The jedi worker: a job it does not answer in time is given up, and the next one works."""

from __future__ import annotations

import asyncio
import signal

from bridge.language.engine import JediEngine

PROGRAM = "import os\nos.path.join"


async def test_an_unanswered_job_is_cut_off_and_the_worker_restarts() -> None:
    engine = JediEngine()
    try:
        assert await engine.help(PROGRAM, None, None, 1, 9)  # the worker answers
        first_worker = engine._process
        engine.job_seconds = 0.0001  # far less than any answer takes
        assert await engine.help(PROGRAM, None, None, 1, 9) is None
        assert first_worker is not None
        assert await asyncio.wait_for(first_worker.wait(), 10) == -signal.SIGKILL
        engine.job_seconds = 20
        assert await engine.help(PROGRAM, None, None, 1, 9)  # a new worker answers
        assert engine._process is not first_worker
    finally:
        await engine.close()
