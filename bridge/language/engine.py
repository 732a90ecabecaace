"""Jedi, the static half of the language features, on one worker thread.

Jedi is neither fast (tens to hundreds of ms per fresh Script) nor thread-safe, so every
call runs on a single dedicated thread, off the event loop. Completions are computed at
the start of the word being typed, with that partial word taken out of the program: the
answer then stays valid while the user types more letters of the same word, so every
keystroke after the first is served from a small cache and filtered here.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import jedi

logger = logging.getLogger(__name__)

T = TypeVar("T")
_CACHE_SIZE = 8


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
    jedi_completions: dict[str, Any]  # name -> jedi Completion, for documentation

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


class JediEngine:
    """Runs jedi on its own thread; the loop only awaits futures."""

    def __init__(self) -> None:
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="jedi")
        self._environment: Any = None
        self._projects: dict[str, jedi.Project] = {}
        self._lock = threading.Lock()
        self._completions: OrderedDict[tuple[Any, ...], StaticCompletions] = OrderedDict()
        self._running: dict[tuple[Any, ...], concurrent.futures.Future[StaticCompletions]] = {}

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _call(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.wrap_future(self._executor.submit(function, *args))

    # ---------------------------------------------------------------- jedi set-up
    def _script(self, program: str, path: str | None, root: str | None) -> jedi.Script:
        if self._environment is None:
            # Jedi inspects compiled modules in a subprocess: a crashing extension module
            # can then never take the bridge down.
            self._environment = jedi.get_default_environment()
        project_root = root or (str(Path(path).parent) if path else str(Path.cwd()))
        project = self._projects.get(project_root)
        if project is None:
            project = self._projects[project_root] = jedi.Project(project_root)
        return jedi.Script(program, path=path, project=project, environment=self._environment)

    def warm(self, program: str, path: str | None, root: str | None) -> None:
        """Load builtins and the program's parse on the thread before the first keystroke."""

        def run() -> None:
            lines = program.split("\n")
            try:
                self._script(program, path, root).complete(len(lines), len(lines[-1]))
            except Exception:
                logger.debug("jedi warm-up failed", exc_info=True)

        self._executor.submit(run)

    # ---------------------------------------------------------------- completion
    def cached_completions(self, program: str, path: str | None, line: int,
                           column: int) -> tuple[tuple[Any, ...], StaticCompletions | None]:
        """The cache key for this position, and the answer if already known."""
        lines = program.split("\n")
        text = lines[line]
        start = word_start(text, column)
        lines[line] = text[:start] + text[column:]
        key = (path, "\n".join(lines), line, start)
        with self._lock:
            found = self._completions.get(key)
            if found is not None:
                self._completions.move_to_end(key)
        return key, found

    def completions(self, key: tuple[Any, ...],
                    root: str | None) -> concurrent.futures.Future[StaticCompletions]:
        """Start (or join) the jedi run for this key; the future outlives its caller."""
        with self._lock:
            running = self._running.get(key)
            if running is not None:
                return running
            # A queued run nobody typed towards any more is dropped.
            for other_key, other in list(self._running.items()):
                if other.cancel():
                    del self._running[other_key]
            future = self._executor.submit(self._complete, key, root)
            self._running[key] = future
        return future

    def _complete(self, key: tuple[Any, ...], root: str | None) -> StaticCompletions:
        path, program, line, column = key
        try:
            found = self._script(program, path, root).complete(line + 1, column)
            items = []
            by_name: dict[str, Any] = {}
            for completion in found:
                name = completion.name
                items.append(StaticCompletion(name, completion.name_with_symbols,
                                              completion.type))
                by_name.setdefault(name, completion)
            result = StaticCompletions(items, by_name)
        except Exception:
            logger.warning("jedi completion failed", exc_info=True)
            result = StaticCompletions([], {})
        with self._lock:
            self._running.pop(key, None)
            self._completions[key] = result
            while len(self._completions) > _CACHE_SIZE:
                self._completions.popitem(last=False)
        return result

    async def documentation(self, completions: StaticCompletions, name: str) -> str | None:
        completion = completions.jedi_completions.get(name)
        if completion is None:
            return None
        return await self._call(_completion_documentation, completion)

    def completions_for(self, key: tuple[Any, ...]) -> StaticCompletions | None:
        with self._lock:
            return self._completions.get(key)

    # ---------------------------------------------------------------- help, signatures
    async def help(self, program: str, path: str | None, root: str | None, line: int,
                   column: int) -> StaticHelp | None:
        return await self._call(self._help, program, path, root, line, column)

    def _help(self, program: str, path: str | None, root: str | None, line: int,
              column: int) -> StaticHelp | None:
        try:
            script = self._script(program, path, root)
            names = script.help(line + 1, column) or script.infer(line + 1, column)
            if not names:
                return None
            name = names[0]
            signatures = [signature.to_string() for signature in name.get_signatures()]
            hint = None
            if name.type in ("instance", "statement", "param"):
                try:
                    hint = name.get_type_hint() or None
                except Exception:
                    hint = None
            return StaticHelp(name.name, name.type, name.full_name, signatures,
                              name.docstring(raw=True), hint)
        except Exception:
            logger.warning("jedi help failed", exc_info=True)
            return None

    async def signatures(self, program: str, path: str | None, root: str | None, line: int,
                         column: int) -> list[StaticSignature]:
        return await self._call(self._signatures, program, path, root, line, column)

    def _signatures(self, program: str, path: str | None, root: str | None, line: int,
                    column: int) -> list[StaticSignature]:
        try:
            found = self._script(program, path, root).get_signatures(line + 1, column)
            return [
                StaticSignature(
                    signature.to_string(),
                    [param.to_string() for param in signature.params],
                    signature.index,
                    signature.docstring(raw=True),
                )
                for signature in found
            ]
        except Exception:
            logger.warning("jedi signatures failed", exc_info=True)
            return []


def _completion_documentation(completion: Any) -> str:
    signatures = [signature.to_string() for signature in completion.get_signatures()]
    docstring: str = completion.docstring(raw=True)
    if not docstring:
        # `os.path` is a statement; what it is bound to carries the documentation.
        docstring = next((text for name in completion.infer()
                          if (text := name.docstring(raw=True))), "")
    parts = []
    if signatures:
        parts.append("```python\n" + "\n".join(signatures) + "\n```")
    if docstring:
        parts.append(docstring)
    return "\n\n".join(parts)
