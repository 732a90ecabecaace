"""Jedi, the static half of the language features, asked in its worker process.

Every question goes to one worker process (bridge/language/worker.py), one at a time, in
order; a completion that nobody waits for any more (the user typed on) is dropped from
the queue before it is sent. Completions are computed at the start of the word being
typed, with that partial word taken out of the program: the answer then stays valid while
the user types more letters of the same word, so every keystroke after the first is
served from a small cache here and filtered here.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import sys
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

import orjson

logger = logging.getLogger(__name__)

_CACHE_SIZE = 8
_ANSWER_LIMIT = 1 << 26


@dataclass(frozen=True)
class StaticCompletion:
    """One name jedi offers at a position."""

    name: str
    insert: str  # the name with the symbols it completes to (`alpha=` for a keyword)
    type: str


@dataclass
class StaticCompletions:
    """All names valid at one word start, kept for typing through that word."""

    items: list[StaticCompletion]
    job: int  # the worker keeps this job's jedi objects, for documentation

    def matching(self, prefix: str) -> list[StaticCompletion]:
        folded = prefix.lower()
        return [item for item in self.items if item.name.lower().startswith(folded)]


@dataclass(frozen=True)
class StaticSignature:
    label: str
    parameters: list[str]
    active_parameter: int | None
    documentation: str


@dataclass(frozen=True)
class StaticHelp:
    """What jedi knows of the name under the cursor."""

    name: str
    type: str
    full_name: str | None
    signatures: list[str]
    docstring: str
    type_hint: str | None


def word_start(line: str, column: int) -> int:
    """Start of the identifier that ends at ``column`` (the part already typed)."""
    start = column
    while start > 0 and (line[start - 1].isalnum() or line[start - 1] == "_"):
        start -= 1
    return start


@dataclass
class _Job:
    request: dict[str, Any]
    future: asyncio.Future[Any]
    droppable: bool


class JediEngine:
    """The bridge's side of the jedi worker: a queue, a cache, futures."""

    # A job jedi has not answered by then is given up and the worker restarted: an odd
    # document or project root (say "/") can keep jedi busy for minutes, and every request
    # queued behind it would wait as long.
    job_seconds = 20.0

    def __init__(self) -> None:
        self._process: asyncio.subprocess.Process | None = None
        self._jobs: deque[_Job] = deque()
        self._wakeup: asyncio.Event | None = None
        self._pump: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._completions: OrderedDict[tuple[Any, ...], StaticCompletions] = OrderedDict()
        # by jedi file name: the interpreter whose packages its imports resolve to
        self._pythons: dict[str, str | None] = {}
        self._running: dict[tuple[Any, ...], asyncio.Future[StaticCompletions]] = {}

    async def close(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
        for job in self._jobs:
            job.future.cancel()
        self._jobs.clear()
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            assert process.stdin is not None
            process.stdin.close()
            try:
                await asyncio.wait_for(process.wait(), 2)
            except TimeoutError:
                process.kill()
                await process.wait()

    # ---------------------------------------------------------------- the worker
    def use_environment(self, path: str | None, python: str | None) -> None:
        """Answer for `path` against the packages of `python` (None: the bridge's)."""
        if path is None or self._pythons.get(path) == python:
            return
        self._pythons[path] = python
        for key in [key for key in self._completions if key[0] == path]:
            del self._completions[key]

    def _submit(self, request: dict[str, Any], droppable: bool = False) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        python = self._pythons.get(request.get("path") or "")
        if python is not None:
            request["python"] = python
        if self._wakeup is None:
            self._wakeup = asyncio.Event()
        if self._pump is None or self._pump.done():
            self._pump = loop.create_task(self._run())
        if droppable:
            # A queued completion nobody typed towards any more is never sent.
            for job in [job for job in self._jobs if job.droppable]:
                self._jobs.remove(job)
                job.future.cancel()
        future: asyncio.Future[Any] = loop.create_future()
        self._jobs.append(_Job(request, future, droppable))
        self._wakeup.set()
        return future

    async def _start(self) -> asyncio.subprocess.Process:
        if self._process is None or self._process.returncode is not None:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bridge.language.worker",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                limit=_ANSWER_LIMIT)
        return self._process

    async def _run(self) -> None:
        assert self._wakeup is not None
        while True:
            while not self._jobs:
                self._wakeup.clear()
                await self._wakeup.wait()
            job = self._jobs.popleft()
            if job.future.done():
                continue
            try:
                process = await self._start()
                assert process.stdin is not None and process.stdout is not None
                process.stdin.write(orjson.dumps(job.request) + b"\n")
                try:
                    line = await asyncio.wait_for(process.stdout.readline(), self.job_seconds)
                except TimeoutError:
                    raise TimeoutError(f"no answer within {self.job_seconds:g} s") from None
                if not line:
                    raise ConnectionError("the jedi worker exited")
                answer = orjson.loads(line)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("jedi worker failed: %s", exc)
                if self._process is not None and self._process.returncode is None:
                    self._process.kill()
                self._process = None
                answer = {"error": str(exc)}
            if not job.future.done():
                if "error" in answer:
                    job.future.set_exception(RuntimeError(answer["error"]))
                else:
                    job.future.set_result(answer.get("result"))

    def warm(self, program: str, path: str | None, root: str | None) -> None:
        """Start the worker and read the program before the first keystroke."""
        future = self._submit({"op": "warm", "program": program, "path": path,
                               "root": root})
        future.add_done_callback(lambda done: done.cancelled() or done.exception())

    async def _ask(self, op: str, program: str, path: str | None, root: str | None,
                   line: int, column: int) -> Any:
        try:
            return await self._submit({"op": op, "program": program, "path": path,
                                       "root": root, "line": line, "column": column})
        except RuntimeError as exc:
            logger.info("jedi %s: %s", op, exc)
            return None

    # ---------------------------------------------------------------- completion
    def cached_completions(self, program: str, path: str | None, line: int,
                           column: int) -> tuple[tuple[Any, ...], StaticCompletions | None]:
        """The cache key for this position, and the answer if already known."""
        lines = program.split("\n")
        text = lines[line]
        start = word_start(text, column)
        lines[line] = text[:start] + text[column:]
        key = (path, "\n".join(lines), line, start)
        found = self._completions.get(key)
        if found is not None:
            self._completions.move_to_end(key)
        return key, found

    def completions(self, key: tuple[Any, ...],
                    root: str | None) -> asyncio.Future[StaticCompletions]:
        """Start (or join) the jedi run for this key; the answer lands in the cache."""
        running = self._running.get(key)
        if running is not None and not running.cancelled():
            return running
        path, program, line, column = key
        job = next(self._ids)
        asked = self._submit({"op": "complete", "job": job, "program": program,
                              "path": path, "root": root, "line": line, "column": column},
                             droppable=True)
        result: asyncio.Future[StaticCompletions] = asyncio.get_running_loop().create_future()
        self._running[key] = result

        def landed(done: asyncio.Future[Any]) -> None:
            self._running.pop(key, None)
            if done.cancelled():
                result.cancel()
                return
            if done.exception() is not None:
                logger.info("jedi completion: %s", done.exception())
                answer = StaticCompletions([], job)
            else:
                answer = StaticCompletions(
                    [StaticCompletion(*entry) for entry in done.result()], job)
                self._completions[key] = answer
                while len(self._completions) > _CACHE_SIZE:
                    self._completions.popitem(last=False)
            if not result.done():
                result.set_result(answer)

        asked.add_done_callback(landed)
        return result

    async def documentation(self, completions: StaticCompletions, name: str) -> str | None:
        try:
            text = await self._submit({"op": "doc", "job": completions.job, "name": name})
        except RuntimeError:
            return None
        return text if isinstance(text, str) else None

    # ---------------------------------------------------------------- help, signatures
    async def help(self, program: str, path: str | None, root: str | None, line: int,
                   column: int) -> StaticHelp | None:
        found = await self._ask("help", program, path, root, line, column)
        if not isinstance(found, dict):
            return None
        return StaticHelp(found["name"], found["type"], found["fullName"],
                          found["signatures"], found["docstring"], found["typeHint"])

    async def signatures(self, program: str, path: str | None, root: str | None, line: int,
                         column: int) -> list[StaticSignature]:
        found = await self._ask("signatures", program, path, root, line, column)
        return [StaticSignature(entry["label"], entry["parameters"], entry["activeParameter"],
                                entry["documentation"])
                for entry in found or []]
