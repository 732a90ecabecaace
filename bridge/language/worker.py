"""The jedi worker: a process of its own that answers the bridge's static questions.

Jedi is pure Python and slow (tens to hundreds of ms per fresh Script, seconds when it
first reads a big package). In a thread of the bridge it would hold the GIL and stall the
event loop that carries kernel output and every other request; in its own process it
costs the bridge nothing but a pipe. Requests and answers are orjson lines on
stdin/stdout, answered in order.

    {"id": 1, "op": "complete", "job": 7, "program": ..., "path": ..., "root": ...,
     "line": 0, "column": 3}                  -> {"id": 1, "result": [[name, insert, type]]}
    {"op": "doc", "job": 7, "name": "align"}  -> markdown or null
    {"op": "help" | "signatures", "program", "path", "root", "line", "column"}
    {"op": "warm", "program", "path", "root"}
Each may carry "python": the interpreter of the notebook's kernel, whose packages jedi
then resolves imports against (the bridge's own environment without it).
"""

from __future__ import annotations

import logging
import os
import pickle
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any

import jedi
import orjson
import parso.cache

logger = logging.getLogger("bridge.language.worker")

_JOBS_KEPT = 8


class Worker:
    def __init__(self) -> None:
        # Jedi inspects compiled modules in a subprocess of its own: a crashing extension
        # module cannot take this worker down either.
        self.environment = jedi.get_default_environment()
        self.environments: dict[str, Any] = {}  # by interpreter, as asked
        self.projects: dict[str, jedi.Project] = {}
        self.jobs: OrderedDict[int, dict[str, Any]] = OrderedDict()

    def script(self, request: dict[str, Any]) -> jedi.Script:
        path, root = request.get("path"), request.get("root")
        project_root = root or (str(Path(path).parent) if path else os.getcwd())
        project = self.projects.get(project_root)
        if project is None:
            project = self.projects[project_root] = jedi.Project(project_root)
        return jedi.Script(request["program"], path=path, project=project,
                           environment=self.environment_of(request.get("python")))

    def environment_of(self, python: str | None) -> Any:
        """The environment of the notebook kernel's interpreter (the bridge's own if none,
        or if that interpreter cannot be used)."""
        if not python:
            return self.environment
        found = self.environments.get(python)
        if found is None:
            try:
                found = jedi.create_environment(python, safe=False)
            except Exception as exc:
                logger.warning("jedi cannot use %s: %s", python, exc)
                found = self.environment
            self.environments[python] = found
        return found

    def handle(self, request: dict[str, Any]) -> Any:
        op = request["op"]
        if op == "complete":
            return self.complete(request)
        if op == "doc":
            completion = self.jobs.get(request["job"], {}).get(request["name"])
            return None if completion is None else completion_documentation(completion)
        if op == "help":
            return self.help(request)
        if op == "signatures":
            return self.signatures(request)
        if op == "warm":
            lines = request["program"].split("\n")
            self.script(request).complete(len(lines), len(lines[-1]))
            return None
        raise ValueError(f"unknown op {op!r}")

    def complete(self, request: dict[str, Any]) -> list[list[str]]:
        found = self.script(request).complete(request["line"] + 1, request["column"])
        by_name: dict[str, Any] = {}
        items = []
        for completion in found:
            items.append([completion.name, completion.name_with_symbols, completion.type])
            by_name.setdefault(completion.name, completion)
        self.jobs[request["job"]] = by_name
        while len(self.jobs) > _JOBS_KEPT:
            self.jobs.popitem(last=False)
        return items

    def help(self, request: dict[str, Any]) -> dict[str, Any] | None:
        script = self.script(request)
        line, column = request["line"] + 1, request["column"]
        names = script.help(line, column) or script.infer(line, column)
        if not names:
            return None
        name = names[0]
        hint = None
        if name.type in ("instance", "statement", "param"):
            try:
                hint = name.get_type_hint() or None
            except Exception:
                hint = None
        return {"name": name.name, "type": name.type, "fullName": name.full_name,
                "signatures": [signature.to_string() for signature in name.get_signatures()],
                "docstring": name.docstring(raw=True), "typeHint": hint}

    def signatures(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        found = self.script(request).get_signatures(request["line"] + 1, request["column"])
        return [{"label": signature.to_string(),
                 "parameters": [param.to_string() for param in signature.params],
                 "activeParameter": signature.index,
                 "documentation": signature.docstring(raw=True)}
                for signature in found]


def completion_documentation(completion: Any) -> str:
    signatures = [signature.to_string() for signature in completion.get_signatures()]
    docstring: str = completion.docstring(raw=True)
    if not docstring:
        # A name bound by assignment: what it is bound to carries the documentation.
        docstring = next((text for name in completion.infer()
                          if (text := name.docstring(raw=True))), "")
    parts = []
    if signatures:
        parts.append("```python\n" + "\n".join(signatures) + "\n```")
    if docstring:
        parts.append(docstring)
    return "\n\n".join(parts)


def share_parso_cache_safely() -> None:
    """Let several workers (one per bridge) share parso's on-disk cache.

    parso writes a cache file in place, so another process can read it half-written and
    fail with EOFError; write to a temporary file and rename instead, and take a file
    that cannot be read as a cache miss."""
    load, save_path = parso.cache._load_from_file_system, parso.cache._get_hashed_path

    def load_or_miss(*args: Any, **kwargs: Any) -> Any:
        try:
            return load(*args, **kwargs)
        except (EOFError, pickle.UnpicklingError, AttributeError, ValueError):
            return None

    def save_atomically(hashed_grammar: str, path: str, item: Any,
                        cache_path: str | None = None) -> None:
        target = save_path(hashed_grammar, path, cache_path=cache_path)
        partial = f"{target}.{os.getpid()}.partial"
        with open(partial, "wb") as file:
            pickle.dump(item, file, pickle.HIGHEST_PROTOCOL)
        os.replace(partial, target)

    parso.cache._load_from_file_system = load_or_miss
    parso.cache._save_to_file_system = save_atomically


def main() -> None:
    share_parso_cache_safely()
    wire = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # stray prints go to stderr, never into the answers
    logging.basicConfig(level=os.environ.get("NBBRIDGE_WORKER_LOG", "WARNING"),
                        stream=sys.stderr)
    worker = Worker()
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        request = orjson.loads(line)
        answer: dict[str, Any] = {"id": request.get("id")}
        try:
            answer["result"] = worker.handle(request)
        except Exception as exc:
            logger.warning("jedi %s failed", request.get("op"), exc_info=True)
            answer["error"] = f"{type(exc).__name__}: {exc}"
        wire.write(orjson.dumps(answer) + b"\n")


if __name__ == "__main__":
    main()
