"""Python environments on this machine, as kernels: a project's .venv, conda and pyenv
environments, virtualenvwrapper's and uv's, and the interpreters on PATH.

Finding them is a scan of well-known folders (stat calls only); what each one is (its
version, its prefix, whether ipykernel is importable) is asked of the interpreter once
and kept, in memory and in the user's cache folder, until its executable or its
site-packages folder changes: a listing answers from that cache, only new or changed
environments cost a process start, and those still being asked after a short deadline
are reported later (`on_change`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import glob
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridge.errors import BridgeError, ErrorCode

logger = logging.getLogger(__name__)

PROBE_TIMEOUT = 10.0
PROBES_AT_ONCE = 4
LIST_DEADLINE = 0.25
WORKSPACE_FOLDERS = (".venv", "venv", "env")
_PATH_NAMES = re.compile(r"^python(3(\.\d+)?)?$")
_PROBE = (
    "import importlib.util, json, sys\n"
    "print(json.dumps({'version': '%d.%d.%d' % sys.version_info[:3], 'prefix': sys.prefix,"
    " 'implementation': sys.implementation.name,"
    " 'ipykernel': importlib.util.find_spec('ipykernel') is not None}))"
)


@dataclass(frozen=True)
class Candidate:
    python: str  # the interpreter as found (a venv's bin/python, not what it links to)
    kind: str  # venv, uv, conda, pyenv, virtualenvwrapper, path
    group: str  # workspace or global


@dataclass(frozen=True)
class PythonEnvironment:
    python: str
    kind: str
    group: str
    prefix: str
    version: str
    implementation: str
    ipykernel: bool

    @property
    def name(self) -> str:
        """What a kernel picker shows: the version and where it lives."""
        folder = Path(self.prefix)
        where = folder.name if self.group == "workspace" else str(folder)
        if self.kind == "path":
            where = self.python
        return f"Python {self.version} ({self.kind}: {where})"

    def describe(self, bridge_prefix: str = sys.prefix) -> dict[str, Any]:
        return {"python": self.python, "name": self.name, "kind": self.kind,
                "group": self.group, "prefix": self.prefix, "version": self.version,
                "implementation": self.implementation, "ipykernel": self.ipykernel,
                "bridgeEnvironment": os.path.realpath(self.prefix) ==
                os.path.realpath(bridge_prefix)}


def _python_in(prefix: str) -> str | None:
    for relative in ("bin/python", "bin/python3", "python.exe", "Scripts/python.exe"):
        candidate = os.path.join(prefix, relative)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _venv_kind(prefix: str) -> str:
    """uv writes its name into pyvenv.cfg; conda environments have conda-meta."""
    if os.path.isdir(os.path.join(prefix, "conda-meta")):
        return "conda"
    with contextlib.suppress(OSError):
        with open(os.path.join(prefix, "pyvenv.cfg"), encoding="utf-8") as config:
            if any(line.split("=")[0].strip() == "uv" for line in config):
                return "uv"
    return "venv"


def _prefixes_under(pattern: str) -> list[str]:
    return sorted(glob.glob(os.path.expanduser(pattern)))


def _conda_prefixes() -> Iterator[str]:
    listed = os.path.expanduser("~/.conda/environments.txt")
    with contextlib.suppress(OSError):
        with open(listed, encoding="utf-8") as lines:
            yield from (line.strip() for line in lines if line.strip())
    for base in ("~/miniconda3", "~/anaconda3", "~/miniforge3", "~/mambaforge",
                 "/opt/conda", "/opt/miniconda3"):
        root = os.path.expanduser(base)
        if os.path.isdir(os.path.join(root, "conda-meta")):
            yield root
            yield from _prefixes_under(os.path.join(root, "envs", "*"))
    if os.environ.get("CONDA_PREFIX"):
        yield os.environ["CONDA_PREFIX"]


def find_candidates(roots: list[str], path: str | None = None) -> list[Candidate]:
    """Every interpreter found in the usual places, the workspace's first."""
    found: list[Candidate] = []

    def add(prefix_or_python: str, kind: str, group: str, is_python: bool = False) -> None:
        python = prefix_or_python if is_python else _python_in(prefix_or_python)
        if python is not None:
            found.append(Candidate(os.path.abspath(python), kind, group))

    for root in roots:
        for folder in WORKSPACE_FOLDERS:
            prefix = os.path.join(root, folder)
            if os.path.isfile(os.path.join(prefix, "pyvenv.cfg")) or os.path.isdir(
                    os.path.join(prefix, "conda-meta")):
                add(prefix, _venv_kind(prefix), "workspace")
    if os.environ.get("VIRTUAL_ENV"):
        prefix = os.environ["VIRTUAL_ENV"]
        add(prefix, _venv_kind(prefix), "global")
    for prefix in _conda_prefixes():
        add(prefix, "conda", "global")
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    for prefix in _prefixes_under(os.path.join(pyenv_root, "versions", "*")):
        add(prefix, "venv" if os.path.islink(prefix) else "pyenv", "global")
        for env in _prefixes_under(os.path.join(prefix, "envs", "*")):
            add(env, "venv", "global")
    workon = os.environ.get("WORKON_HOME") or os.path.expanduser("~/.virtualenvs")
    for prefix in _prefixes_under(os.path.join(workon, "*")):
        add(prefix, "virtualenvwrapper", "global")
    uv_pythons = os.environ.get("UV_PYTHON_INSTALL_DIR") or os.path.expanduser(
        "~/.local/share/uv/python")
    for prefix in _prefixes_under(os.path.join(uv_pythons, "*")):
        add(prefix, "uv", "global")
    seen_real: set[str] = set()
    for folder in (path if path is not None else os.environ.get("PATH", "")).split(os.pathsep):
        with contextlib.suppress(OSError):
            for entry in sorted(os.listdir(folder or ".")):
                full = os.path.join(folder, entry)
                if not _PATH_NAMES.match(entry) or not os.access(full, os.X_OK):
                    continue
                real = os.path.realpath(full)
                # pyenv's shims are scripts that start pyenv: its versions are listed above
                if real in seen_real or os.path.isdir(full) or "shims" in Path(folder).parts:
                    continue
                seen_real.add(real)
                add(full, "path", "global", is_python=True)
    unique: dict[str, Candidate] = {}
    for candidate in found:
        unique.setdefault(candidate.python, candidate)
    return list(unique.values())


def _stamp(python: str) -> tuple[float, ...]:
    """What changes when the interpreter or its installed packages change."""
    prefix = os.path.dirname(os.path.dirname(python))
    times = []
    for path in [python, *glob.glob(os.path.join(prefix, "lib", "python3*", "site-packages")),
                 os.path.join(prefix, "Lib", "site-packages")]:
        with contextlib.suppress(OSError):
            times.append(os.stat(path).st_mtime)
    return tuple(times)


def cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "nbbridge" / "environments.json"


Known = dict[str, tuple[tuple[float, ...], "PythonEnvironment | None"]]


class EnvironmentFinder:
    """The Python environments of this machine and of the client's workspace folders."""

    def __init__(self, roots: Callable[[], list[str]],
                 on_change: Callable[[], None] = lambda: None,
                 cache: Path | None = None) -> None:
        self._roots = roots
        self._on_change = on_change
        self._cache = cache if cache is not None else cache_file()
        self._known: Known | None = None
        self._probes = asyncio.Semaphore(PROBES_AT_ONCE)
        self._reports: set[asyncio.Task[None]] = set()

    async def list(self, deadline: float = LIST_DEADLINE) -> list[PythonEnvironment]:
        """Every environment found now. Interpreters new or changed since they were last
        asked are asked (concurrently); those not done within `deadline` seconds are left
        out and `on_change` is called once they are."""
        if self._known is None:
            self._known = await asyncio.to_thread(_read_cache, self._cache)
        candidates = await asyncio.to_thread(find_candidates, self._roots())
        stamps = await asyncio.to_thread(lambda: [_stamp(c.python) for c in candidates])
        tasks = [asyncio.ensure_future(self._environment(candidate, stamp))
                 for candidate, stamp in zip(candidates, stamps, strict=True)]
        if tasks:
            await asyncio.wait(tasks, timeout=deadline)
        late = {task for task in tasks if not task.done()}
        if late:
            report = asyncio.ensure_future(self._report_late(late))
            self._reports.add(report)
            report.add_done_callback(self._reports.discard)
        else:
            await asyncio.to_thread(_write_cache, self._cache, self._known)
        found = [task.result() for task in tasks if task.done() and not task.exception()]
        return await asyncio.to_thread(_one_per_prefix, found)

    async def _report_late(self, late: set[asyncio.Task[PythonEnvironment | None]]) -> None:
        await asyncio.wait(late)
        if self._known is not None:
            await asyncio.to_thread(_write_cache, self._cache, self._known)
        self._on_change()

    async def find(self, python: str) -> PythonEnvironment:
        """The environment of one interpreter (listed or not), asked afresh if changed."""
        path = await asyncio.to_thread(_interpreter_path, python)
        known = next((c for c in await asyncio.to_thread(find_candidates, self._roots())
                      if c.python == path), Candidate(path, "path", "global"))
        environment = await self._environment(known, await asyncio.to_thread(_stamp, path))
        if environment is None:
            raise BridgeError(ErrorCode.KERNEL_START_FAILED,
                              f"{python!r} did not answer as a Python interpreter")
        return environment

    def forget(self, python: str) -> None:
        """Ask again next time (after installing into it)."""
        if self._known is not None:
            self._known.pop(os.path.abspath(python), None)

    async def _environment(self, candidate: Candidate,
                           stamp: tuple[float, ...]) -> PythonEnvironment | None:
        if self._known is None:
            self._known = await asyncio.to_thread(_read_cache, self._cache)
        cached = self._known.get(candidate.python)
        if cached is not None and cached[0] == stamp:
            # where it was found this time says its kind and group
            return None if cached[1] is None else dataclasses.replace(
                cached[1], kind=candidate.kind, group=candidate.group)
        async with self._probes:
            facts = await _probe(candidate.python)
        environment = None if facts is None else PythonEnvironment(
            candidate.python, candidate.kind, candidate.group, str(facts["prefix"]),
            str(facts["version"]), str(facts["implementation"]), bool(facts["ipykernel"]))
        self._known[candidate.python] = (stamp, environment)
        return environment


def format_environments(found: list[PythonEnvironment]) -> str:
    """`nbbridge kernels`' second table: one row per environment, with ipykernel or not."""
    rows = [("GROUP", "KIND", "VERSION", "IPYKERNEL", "PYTHON")]
    rows += [(e.group, e.kind, e.version, "yes" if e.ipykernel else "no", e.python)
             for e in found]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths,
                                                                       strict=False))
                     + "  " + row[-1] for row in rows)


def list_for_cli() -> str:
    """Every environment, asked to the end (a command line can wait for its answer)."""
    finder = EnvironmentFinder(lambda: [os.getcwd()])
    found = asyncio.run(finder.list(deadline=PROBE_TIMEOUT * 2))
    return "Python environments (start one with kernel/start {\"environment\": PYTHON}):\n" \
        + format_environments(found)


def _read_cache(path: Path) -> Known:
    """What earlier bridges learnt of each interpreter (nothing if the file is unusable)."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        known: Known = {}
        for python, (stamp, facts) in entries.items():
            known[python] = (tuple(stamp), None if facts is None else PythonEnvironment(**facts))
        return known
    except (OSError, ValueError, TypeError):
        return {}


def _write_cache(path: Path, known: Known) -> None:
    entries = {python: (list(stamp), None if environment is None else environment.__dict__)
               for python, (stamp, environment) in known.items()}
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(entries), encoding="utf-8")
        os.replace(temporary, path)


def _one_per_prefix(found: list[PythonEnvironment | None]) -> list[PythonEnvironment]:
    # a venv's interpreter and the base it links to are different environments; two
    # names of one interpreter (python, python3) are one
    by_prefix: dict[str, PythonEnvironment] = {}
    for environment in found:
        if environment is not None:
            by_prefix.setdefault(os.path.realpath(environment.prefix), environment)
    return list(by_prefix.values())


def _interpreter_path(python: str) -> str:
    path = os.path.abspath(os.path.expanduser(python))
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise BridgeError(ErrorCode.KERNEL_START_FAILED, f"no Python interpreter at {python!r}")
    return path


async def _probe(python: str) -> dict[str, Any] | None:
    try:
        process = await asyncio.create_subprocess_exec(
            python, "-c", _PROBE, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    except OSError:
        return None
    try:
        out, _ = await asyncio.wait_for(process.communicate(), PROBE_TIMEOUT)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        logger.info("%s did not answer within %g s", python, PROBE_TIMEOUT)
        return None
    if process.returncode != 0:
        return None
    try:
        facts: dict[str, Any] = json.loads(out.decode("utf-8", "replace").strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    return facts if facts.get("version", "").startswith("3.") else None


async def install_ipykernel(environment: PythonEnvironment,
                            on_line: Callable[[str], None]) -> None:
    """`python -m pip install ipykernel` in that environment, its output line by line."""
    process = await asyncio.create_subprocess_exec(
        environment.python, "-m", "pip", "install", "--disable-pip-version-check",
        "ipykernel", stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    assert process.stdout is not None
    tail: list[str] = []
    async for raw in process.stdout:
        line = raw.decode("utf-8", "replace").rstrip()
        if line:
            tail = [*tail[-19:], line]
            on_line(line)
    code = await process.wait()
    if code != 0:
        said = "\n".join(tail)
        reason = ("that environment has no pip" if "No module named pip" in said else
                  f"pip exited with code {code}")
        raise BridgeError(ErrorCode.KERNEL_START_FAILED,
                          f"could not install ipykernel into {environment.prefix}: {reason}"
                          + (f"\n{said}" if said else ""))


def environment_argv(python: str) -> list[str]:
    return [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]

