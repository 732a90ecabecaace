"""`nbbridge run`: execute every code cell of a notebook on the editor's KernelSession code.

The notebook is read and written with the lossless codec, so a run changes only what it
must: each executed cell's outputs, execution_count and `metadata.execution` timing, and
(for a run that stops early) the outputs of the cells it did not reach. The file is
written once, atomically, when the run ends; a run killed on the way leaves it untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import re
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import nbformat
import orjson
from nbformat.v4.rwbase import split_lines
from pygls import uris

from bridge.errors import BridgeError, ErrorCode
from bridge.headless.exits import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_KERNEL_START,
    EXIT_OK,
    EXIT_TIMEOUT,
)
from bridge.headless.parameters import Parameters, inject_parameters, syntax_for
from bridge.headless.progress import OutputLog, Progress, first_line, plain
from bridge.kernels.comms import WIDGET_STATE_MIME
from bridge.kernels.outputs import DisplayIndex
from bridge.kernels.registry import KernelRegistry
from bridge.kernels.remote.servers import ServerList
from bridge.kernels.session import KernelSession
from bridge.kernels.specs import spec_manager
from bridge.kernels.streaming import run_streamed
from bridge.notebook.files import check_writable, parse_notebook, read_text, write_atomically
from bridge.notebook.store import NotebookStore
from bridge.notebook.writing import write_notebook

INTERRUPT_GRACE_SECONDS = 10.0
SKIP_TAG = "skip-execution"
RAISES_TAG = "raises-exception"  # nbclient's: this cell's error is expected
# ipykernel keeps its history in one sqlite file per profile, which parallel runs would
# fight over (and a headless run has no use for)
IN_MEMORY_HISTORY = ["--HistoryManager.hist_file=:memory:"]


@dataclass
class RunOptions:
    source: Path
    output: Path
    kernel: str | None = None
    parameters: Parameters | None = None  # None: inject nothing; {} injects the heading
    timeout: float | None = None
    allow_errors: bool = False
    cwd: Path | None = None  # the kernel's working directory (default: the notebook's)
    log_output: bool = False
    label: str = ""  # names the notebook in progress lines when several run at once
    server: ServerTarget | None = None  # run on a Jupyter Server's kernel


@dataclass(frozen=True)
class ServerTarget:
    url: str
    token: str | None = field(default=None, repr=False)
    ca_file: str | None = None


@dataclass
class RunOutcome:
    exit_code: int
    message: str
    executed: int = 0
    errors: list[str] = field(default_factory=list)
    written: Path | None = None


class _Stop(Exception):
    """The run ends early; the message says why."""

    def __init__(self, exit_code: int, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.message = message


class NotebookRun:
    """One headless run of one notebook, on a kernel of its own from `registry`."""

    def __init__(self, options: RunOptions, stream: TextIO,
                 registry: KernelRegistry | None = None) -> None:
        self.options = options
        self.stream = stream
        self.registry = registry
        self.notebook: dict[str, Any] = {}
        self.session: KernelSession | None = None
        self.interrupted = 0
        self.displays: DisplayIndex = {}
        self.store = NotebookStore()
        self.log = OutputLog(stream, options.label) if options.log_output else None
        self._starting: asyncio.Task[KernelSession] | None = None
        self._signalled: list[asyncio.Future[None]] = []
        self._ran: list[dict[str, Any]] = []
        self._read_text = ""
        self._servers = ServerList()  # the server of a --server run

    async def run(self) -> RunOutcome:
        """The run's outcome; bad input, a kernel that cannot start and Ctrl-C before the
        first cell are outcomes too (nothing written then)."""
        own_registry = self.registry is None
        registry = self.registry or KernelRegistry(on_status=lambda status: None)
        loop = asyncio.get_running_loop()
        if own_registry:
            # Ctrl-C interrupts the kernel instead of ending the process, until what ran
            # has been written (several runs share one handler: see batch.py)
            loop.add_signal_handler(signal.SIGINT, self.on_interrupt)
        try:
            return await self._run(registry)
        except _Stop as stop:
            return RunOutcome(stop.exit_code, stop.message)
        except BridgeError as exc:
            return RunOutcome(EXIT_BAD_INPUT, exc.message)
        finally:
            if self.session is not None:  # the run ended early: its kernel goes too
                with contextlib.suppress(BridgeError):
                    await registry.shutdown(self.session.kernel_id)
            if own_registry:
                loop.remove_signal_handler(signal.SIGINT)
                await registry.shutdown_all()
            await self._servers.close()

    async def _run(self, registry: KernelRegistry) -> RunOutcome:
        options = self.options
        self._read_text = read_text(options.source)
        self.notebook = parse_notebook(self._read_text, self.store, options.source)
        check_writable(options.output)  # before the run, not after it
        if options.server is not None:
            return await self._run_remote(registry, options.server)
        name, spec = self._kernelspec()
        self.session = await self._start_kernel(registry, name, spec)
        return await self._run_started(registry, name, spec)

    async def _run_remote(self, registry: KernelRegistry, target: ServerTarget) -> RunOutcome:
        try:
            server = await self._servers.add(target.url, target.token, target.ca_file)
        except BridgeError as exc:
            raise _Stop(EXIT_KERNEL_START, exc.message) from None
        specs = (await server.kernelspecs()).get("kernelspecs") or {}
        asked = self._kernel_name()
        name = asked if asked in specs else None  # None: the server's default
        if self.options.kernel and name is None:
            raise BridgeError(ErrorCode.INVALID_PARAMS,
                              f"{server.address.display} has no kernelspec "
                              f"{self.options.kernel!r} (it has: {', '.join(specs)})")
        self._starting = asyncio.ensure_future(registry.start_remote(
            server, name, uris.from_fs_path(str(self.options.source.resolve()))))
        self.session = await self._await_start()
        spec = (specs.get(self.session.spec_name) or {}).get("spec") or {}
        return await self._run_started(registry, self.session.spec_name, spec)

    async def _run_started(self, registry: KernelRegistry, name: str,
                           spec: dict[str, Any]) -> RunOutcome:
        options = self.options
        assert self.session is not None
        if options.parameters is not None:
            # in the language of the kernel that runs them, whatever the notebook says
            language = self.session.language_info.get("name")
            written_in, _ = syntax_for(language, spec.get("language"), name)
            inject_parameters(self.notebook, options.parameters, written_in)
        cells = self.notebook.get("cells", [])
        runnable = [index for index, cell in enumerate(cells) if _runnable(cell)]
        outcome = await self._run_cells(runnable)
        self._store_widget_state()
        # the kernel is no longer needed: it shuts down while the file is written
        session, self.session = self.session, None
        written, stopped = await asyncio.gather(
            asyncio.to_thread(self._write), self._shut_down(registry, session),
            return_exceptions=True)
        for failure in (written, stopped):
            if isinstance(failure, BaseException):
                raise failure
        assert isinstance(written, Path)
        outcome.written = written
        if outcome.written != options.output:
            outcome.exit_code = outcome.exit_code or EXIT_FAILED
            outcome.message += (f"; {options.source} changed on disk during the run, so "
                                "it was left as it is")
        return outcome

    async def _run_cells(self, runnable: list[int]) -> RunOutcome:
        options = self.options
        progress = Progress(self.stream, len(runnable),
                            False if options.label or options.log_output else None,
                            options.label)
        errors: list[str] = []
        executed = 0
        try:
            for position, index in enumerate(runnable, start=1):
                cell = self.notebook["cells"][index]
                where = f"cell {index + 1} ({first_line(cell['source'], 40)!r})"
                if self.interrupted:  # Ctrl-C between two cells
                    raise _Stop(EXIT_INTERRUPTED, f"interrupted before {where}")
                progress.cell_started(position, index + 1, cell["source"])
                status = await self._run_cell(cell)
                executed += 1
                self._ran.append(cell)
                if self.interrupted:
                    raise _Stop(EXIT_INTERRUPTED, f"interrupted in {where}")
                if status == "ok":
                    continue
                dead = self.session is not None and self.session.state == "dead"
                if status == "timeout":
                    problem = (f"{where} was still running after --timeout "
                               f"{options.timeout:g} s; interrupted it")
                    if dead:
                        raise _Stop(EXIT_TIMEOUT, f"{problem}, but it went on, so the "
                                                  "kernel was stopped")
                    if not options.allow_errors:
                        raise _Stop(EXIT_TIMEOUT, problem)
                    errors.append(problem)
                    progress.message(f"timeout: {problem}")
                    continue
                if dead:
                    raise _Stop(EXIT_FAILED, f"the kernel died in {where}: "
                                             f"{error_text(cell, status)}")
                problem = f"{where}: {error_text(cell, status)}"
                if _tagged(cell, RAISES_TAG):
                    continue
                errors.append(problem)
                if not options.allow_errors:
                    raise _Stop(EXIT_FAILED, f"failed in {problem}")
                progress.message(f"error in {problem}")
        except _Stop as stop:
            self._clear_unreached(runnable[executed:])
            return RunOutcome(stop.exit_code, stop.message, executed, errors)
        finally:
            await progress.close()
        summary = f"ran {executed} cells in {progress.elapsed:.1f} s"
        if errors:
            summary += f" ({len(errors)} with errors, allowed)"
        return RunOutcome(EXIT_OK, summary, executed, errors)

    async def _run_cell(self, cell: dict[str, Any]) -> str:
        """Run one cell into its outputs; returns ok, error, aborted or timeout."""
        assert self.session is not None
        outputs: list[dict[str, Any]] = []
        cell["outputs"] = outputs
        cell["execution_count"] = None
        execution = asyncio.ensure_future(run_streamed(
            self.session, cell["source"], f"run-{id(cell)}", rpc=self.log, outputs=outputs,
            displays=self.displays, stop_on_error=not self.options.allow_errors))
        timed_out = False
        done, _ = await asyncio.wait({execution}, timeout=self.options.timeout)
        if not done:
            timed_out = True
            await self._interrupt()
            done, _ = await asyncio.wait({execution}, timeout=INTERRUPT_GRACE_SECONDS)
            if not done:  # the cell ignores interrupts: only stopping the kernel ends it
                await self.session.shutdown()
        try:
            result = await execution
        finally:
            if self.log is not None:
                self.log.end_cell()
        cell["execution_count"] = result.get("executionCount")
        _record_timing(cell, result)
        if timed_out:
            # as nbclient's error_on_timeout: the cell's own record says why it stopped
            outputs.append(timeout_output(self.options.timeout or 0))
        return "timeout" if timed_out else str(result["status"])

    def _kernelspec(self) -> tuple[str, dict[str, Any]]:
        """The kernel's name and kernelspec; an unknown name is bad input."""
        from jupyter_client.kernelspec import NATIVE_KERNEL_NAME, NoSuchKernel

        asked = self._kernel_name()
        name = asked or NATIVE_KERNEL_NAME
        specs = spec_manager()
        try:
            spec: dict[str, Any] = specs.get_kernel_spec(name).to_dict()
        except NoSuchKernel:
            known = ", ".join(sorted(specs.find_kernel_specs())) or "none"
            message = f"no kernelspec named {name!r} (installed: {known})"
            if asked and not self.options.kernel:
                message += (f" (the notebook asks for {name!r}; choose another with "
                            "--kernel NAME)")
            raise BridgeError(ErrorCode.INVALID_PARAMS, message) from None
        return name, spec

    async def _start_kernel(self, registry: KernelRegistry, name: str,
                            spec: dict[str, Any]) -> KernelSession:
        source = self.options.source.resolve()
        cwd = self.options.cwd or source.parent
        extra = IN_MEMORY_HISTORY if is_ipykernel(spec) else None
        self._starting = asyncio.ensure_future(registry.start(
            name, uris.from_fs_path(str(source)), cwd=str(cwd), extra_arguments=extra))
        return await self._await_start()

    async def _await_start(self) -> KernelSession:
        assert self._starting is not None
        try:
            return await self._starting
        except asyncio.CancelledError:
            if not self.interrupted:
                raise
            raise _Stop(EXIT_INTERRUPTED, "interrupted before the first cell ran; nothing "
                                          "was written") from None
        except BridgeError as exc:
            raise _Stop(EXIT_KERNEL_START, exc.message) from None
        finally:
            self._starting = None

    async def _shut_down(self, registry: KernelRegistry, session: KernelSession) -> None:
        # by its id: a server's kernel is shut down there, not only let go of
        await registry.shutdown(session.kernel_id)
        if self.registry is None:
            await registry.shutdown_all()

    def on_interrupt(self) -> None:
        """Ctrl-C: the first interrupts the running cell (or stops a kernel still
        starting), the second stops the kernel."""
        self.interrupted += 1
        if self._starting is not None:
            self._starting.cancel()
            return
        if self.session is None or self.session.state == "dead":
            return
        if self.interrupted == 1:
            name = f"{self.options.label}: " if self.options.label else ""
            self.stream.write(f"\n{name}interrupting the kernel (Ctrl-C again to stop it)\n")
            self._signalled.append(asyncio.ensure_future(self._interrupt()))
        else:
            self._signalled.append(asyncio.ensure_future(self.session.shutdown()))

    async def _interrupt(self) -> None:
        assert self.session is not None
        with contextlib.suppress(BridgeError):
            await self.session.interrupt()

    def _kernel_name(self) -> str | None:
        if self.options.kernel:
            return self.options.kernel
        metadata = self.notebook.get("metadata")
        spec = metadata.get("kernelspec") if isinstance(metadata, dict) else None
        name = spec.get("name") if isinstance(spec, dict) else None
        return name if isinstance(name, str) and name else None

    def _clear_unreached(self, indexes: list[int]) -> None:
        """Cells the run did not reach lose old outputs, which would pass for this run's."""
        for index in indexes:
            cell = self.notebook["cells"][index]
            if cell.get("outputs") or cell.get("execution_count") is not None:
                cell["outputs"] = []
                cell["execution_count"] = None
            metadata = cell.get("metadata")
            if isinstance(metadata, dict):
                metadata.pop("execution", None)

    def _store_widget_state(self) -> None:
        """metadata.widgets: the state of the widget models this run's kernel holds (as
        nbclient writes it), so the notebook shows them without a kernel; a notebook whose
        run made none keeps no stale state that no view of it names."""
        assert self.session is not None
        state = self.session.comms.widget_state()
        metadata = self.notebook.setdefault("metadata", {})
        if state["state"]:
            widgets = metadata.setdefault("widgets", {})
            widgets[WIDGET_STATE_MIME] = state
        elif isinstance(metadata.get("widgets"), dict):
            metadata["widgets"].pop(WIDGET_STATE_MIME, None)
            if not metadata["widgets"]:
                del metadata["widgets"]

    def _write(self) -> Path:
        """Write the run's notebook; returns where (see `diverted_output`)."""
        target = self.options.output
        if target.resolve() == self.options.source.resolve():
            with contextlib.suppress(BridgeError):
                if read_text(target) != self._read_text:
                    target = diverted_output(target)
        style = self.notebook.get("codec", {}).get("style", {})
        if style.get("source_as_list", True):
            # Jupyter's files hold multi-line output text as lists of lines; so do ours
            for cell in self._ran:
                cell["outputs"] = lines_split(cell["outputs"])
        write_atomically(target, write_notebook(self.notebook, self.store).encode("utf-8"))
        return target


def is_ipykernel(spec: dict[str, Any]) -> bool:
    """Whether a kernelspec starts ipykernel (`-m ipykernel_launcher`, `-m ipykernel`)."""
    return any("ipykernel" in str(argument) for argument in spec.get("argv", []))


def timeout_output(seconds: float) -> dict[str, Any]:
    text = (f"the cell was still running after {seconds:g} s (--timeout) and was "
            "interrupted")
    return {"output_type": "error", "ename": "CellTimeoutError", "evalue": text,
            "traceback": [f"CellTimeoutError: {text}"]}


def diverted_output(notebook: Path) -> Path:
    """Where a run writes when the notebook it runs in place was changed meanwhile
    (saved from an editor, say): next to it, so neither version is lost."""
    return notebook.with_name(f"{notebook.stem}.run{notebook.suffix}")


def lines_split(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Outputs with multi-line text as lists of lines, by nbformat's own rule."""
    node = nbformat.from_dict({"cells": [{"cell_type": "code", "outputs": outputs}]})
    split: list[dict[str, Any]] = orjson.loads(orjson.dumps(split_lines(node).cells[0].outputs))
    return split


def _runnable(cell: dict[str, Any]) -> bool:
    if cell.get("kind") != "code" or not str(cell.get("source", "")).strip():
        return False
    return not _tagged(cell, SKIP_TAG)


def _tagged(cell: dict[str, Any], tag: str) -> bool:
    metadata = cell.get("metadata")
    tags = metadata.get("tags") if isinstance(metadata, dict) else None
    return isinstance(tags, list) and tag in tags


def _record_timing(cell: dict[str, Any], result: dict[str, Any]) -> None:
    """nbclient's record_timing keys, from the execution's start and end."""
    started, ended = result.get("startedAt"), result.get("endedAt")
    if started is None or ended is None:
        return
    metadata = cell.get("metadata")
    if not isinstance(metadata, dict):
        metadata = cell["metadata"] = {}
    begin, end = _iso(started), _iso(ended)
    metadata["execution"] = {
        "iopub.status.busy": begin, "iopub.execute_input": begin,
        "shell.execute_reply": end, "iopub.status.idle": end,
    }


def _iso(epoch_ms: float) -> str:
    moment = datetime.datetime.fromtimestamp(epoch_ms / 1000, datetime.UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def error_text(cell: dict[str, Any], status: str) -> str:
    """What a failed cell's error says, in a line. Kernels that name no error (bash
    gives ename "" and its exit status as evalue) are described by their last output."""
    outputs = cell.get("outputs", [])
    for output in reversed(outputs):
        if output.get("output_type") != "error":
            continue
        name = plain(str(output.get("ename") or "")).strip()
        name = re.sub(r"^<class '(.+)'>$", r"\1", name)  # xeus-python names the class so
        value = plain(str(output.get("evalue") or "")).strip()
        if name:
            return f"{name}: {value}" if value else name
        lines = [plain(str(line)).strip() for line in output.get("traceback") or []]
        detail = next((line for line in reversed(lines) if line), "")
        if not detail:
            detail = f"error (exit status {value})" if value.isdigit() else value or "error"
        said = _last_output_line(outputs)
        return f"{detail}; last output: {said}" if said and said not in detail else detail
    return "aborted (the kernel stopped)" if status == "aborted" else status


def _last_output_line(outputs: list[dict[str, Any]]) -> str:
    for output in reversed(outputs):
        if output.get("output_type") == "stream":
            text = output.get("text", "")
            text = "".join(text) if isinstance(text, list) else str(text)
            line = next((line.strip() for line in reversed(plain(text).splitlines())
                         if line.strip()), "")
            if line:
                return first_line(line, 200)
    return ""


async def run_notebook(options: RunOptions, stream: TextIO = sys.stderr) -> RunOutcome:
    return await NotebookRun(options, stream).run()
