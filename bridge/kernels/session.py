"""One running kernel: its life (start, restart, shutdown, death), the queue of cells
that run on it, and introspection (complete, inspect).

The kernel process is owned by jupyter_client's AsyncKernelManager; its messages go
through a `KernelChannels` (bridge.kernels.channels), the only thing that talks to the
kernel's sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
import time
from collections.abc import Awaitable, Callable
from typing import Any

from jupyter_client.manager import AsyncKernelManager

from bridge.errors import BridgeError, ErrorCode
from bridge.kernels.channels import KernelChannels, request
from bridge.kernels.comms import CommSink, KernelComms
from bridge.kernels.execution import Execution, kernel_died_output
from bridge.kernels.process_log import ProcessLog
from bridge.kernels.reaper import Reaper
from bridge.kernels.traits import KernelTraits
from bridge.kernels.watch import watch_process
from bridge.kernels.zmq_channels import ZmqChannels

logger = logging.getLogger(__name__)

OutputCallback = Callable[[dict[str, Any]], None]
InputCallback = Callable[[str, bool], Awaitable[str]]
StatusCallback = Callable[["KernelSession", str, str | None], None]
ChannelsFactory = Callable[[AsyncKernelManager], KernelChannels]

READY_TIMEOUT = 60.0
SHUTDOWN_WAIT = 3.0
IDLE_DELAY = 0.005
INTERRUPT_REPLY_TIMEOUT = 5.0
# the kernel's stdout and stderr come to the bridge (ProcessLog), never to its client pipe
PROCESS_PIPES = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}


def zmq_channels(manager: AsyncKernelManager) -> ZmqChannels:
    """The channels of a kernel the manager launched, from its connection info."""
    keys = None
    if manager.curve_publickey is not None and manager.curve_secretkey is not None:
        keys = (manager.curve_secretkey, manager.curve_publickey)
    return ZmqChannels(manager.session, manager.get_connection_info(), keys,
                       label=manager.kernel_id)


class KernelSession:
    """One running kernel, on jupyter_client's AsyncKernelManager."""

    def __init__(self, manager: AsyncKernelManager, notebook_uri: str | None,
                 on_status: StatusCallback,
                 channels_for: ChannelsFactory = zmq_channels,
                 traits: KernelTraits | None = None, reaper: Reaper | None = None) -> None:
        self.manager = manager
        self._channels_for = channels_for  # made anew at each (re)start
        self.traits = traits or KernelTraits("ipc", "signal")
        self._reaper = reaper
        self._pgid: int | None = None
        self.process_log = ProcessLog(manager.kernel_id)
        self.kernel_id: str = manager.kernel_id
        self.spec_name: str = manager.kernel_name
        self.notebook_uri = notebook_uri
        self.language_info: dict[str, Any] = {}
        self.kernel_info: dict[str, Any] = {}
        self.state = "starting"
        self.on_status = on_status
        self.channels: KernelChannels | None = None
        self.comms = KernelComms()  # its comm traffic and widget models (comms.py)
        self._turn = asyncio.Lock()
        self._waiting: list[Execution] = []
        self._running: Execution | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._subshell_id: str | None = None
        self._subshell_lock = asyncio.Lock()
        self._lifecycle = asyncio.Lock()
        self._idle_timer: asyncio.TimerHandle | None = None
        self.exit_reason: str | None = None
        self.ready_timeout = READY_TIMEOUT

    # ---------------------------------------------------------------- start
    @classmethod
    async def start(cls, manager: AsyncKernelManager, notebook_uri: str | None,
                    on_status: StatusCallback, cwd: str | None,
                    ready_timeout: float = READY_TIMEOUT,
                    channels_for: ChannelsFactory = zmq_channels,
                    extra_arguments: list[str] | None = None,
                    traits: KernelTraits | None = None,
                    reaper: Reaper | None = None) -> KernelSession:
        """Launch the kernel process and return once it answers on shell and iopub
        (a BridgeError after `ready_timeout` seconds, with the process stopped)."""
        session = cls(manager, notebook_uri, on_status, channels_for, traits, reaper)
        session.ready_timeout = ready_timeout
        session._set_state("starting")
        try:
            await manager.start_kernel(cwd=cwd, extra_arguments=extra_arguments or [],
                                       **PROCESS_PIPES)
            await session._connect_and_wait()
        except BaseException:
            await session._force_stop()
            raise
        return session

    async def _connect_and_wait(self) -> None:
        await self._track_process()
        self.channels = self._channels_for(self.manager)
        await self.channels.open()
        self.comms.attach(self.channels)
        self._watcher = asyncio.create_task(self._watch())
        await self._wait_ready()
        if self.traits.setup_code:
            await self.execute_silently(self.traits.setup_code)
        self._set_state("idle")

    async def _track_process(self) -> None:
        """A new process: read its output, and let the reaper know its group."""
        self.process_log.close()
        self.process_log = ProcessLog(self.kernel_id)
        process = getattr(self.manager.provisioner, "process", None)
        if process is not None:
            await self.process_log.attach(process)
        pgid = getattr(self.manager.provisioner, "pgid", None)
        if self._reaper is not None and isinstance(pgid, int):
            self._pgid = pgid
            self._reaper.watch(pgid)

    def _untrack_process(self) -> None:
        pgid, self._pgid = self._pgid, None
        if self._reaper is not None and pgid is not None:
            self._reaper.forget(pgid)

    async def _disconnect(self) -> None:
        channels, self.channels = self.channels, None
        self.comms.reset()
        if channels is not None:
            await channels.close()
        self._subshell_id = None

    def _open_channels(self) -> KernelChannels:
        if self.channels is None:
            raise BridgeError(ErrorCode.KERNEL_DEAD, "the kernel is not connected")
        return self.channels

    async def _wait_ready(self) -> None:
        """kernel_info until the shell answers and iopub delivers (no late-joiner loss)."""
        deadline = time.monotonic() + self.ready_timeout
        reply: dict[str, Any] | None = None
        delivered = False
        while time.monotonic() < deadline:
            if self.state == "dead":
                await self.process_log.drained(1.0)
                said = self.process_log.tail()
                raise BridgeError(ErrorCode.KERNEL_START_FAILED,
                                  f"kernel {self.spec_name!r} exited during start: "
                                  f"{self.exit_reason}"
                                  + (f"; it said:\n{said}" if said else ""))
            channels = self._open_channels()
            try:
                reply = await request(channels, "shell", "kernel_info_request", {},
                                      timeout=1.0)
            except TimeoutError:
                continue
            if await channels.iopub_delivered(0.5):
                delivered = True
                break
        if reply is None or not delivered:
            said = self.process_log.tail()
            raise BridgeError(ErrorCode.KERNEL_START_FAILED,
                              f"kernel {self.spec_name!r} did not answer within "
                              f"{self.ready_timeout:g} s"
                              + (f"; it said:\n{said}" if said else ""))
        self.kernel_info = reply["content"]
        self.language_info = dict(self.kernel_info.get("language_info", {}))

    # ------------------------------------------------------------ execution
    async def execute(self, code: str, execution_id: str, on_output: OutputCallback,
                      on_input: InputCallback | None = None,
                      stop_on_error: bool = True,
                      on_comm: CommSink | None = None) -> dict[str, Any]:
        """Run one cell after those queued before it; outputs go to ``on_output``, its comm
        messages to ``on_comm``."""
        execution = Execution(code, execution_id, on_output, on_input, stop_on_error,
                              interrupt=self.interrupt,
                              iopub_filter=self.comms.filter(on_comm))
        self._waiting.append(execution)
        try:
            async with self._turn:
                if self._lifecycle.locked():
                    async with self._lifecycle:
                        pass  # sent during a restart: run on the restarted kernel
                self._waiting.remove(execution)
                if execution.aborted or self.state == "dead":
                    return execution.aborted_result()
                self._running = execution
                if self._idle_timer is not None:
                    self._idle_timer.cancel()
                    self._idle_timer = None
                execution.send(self._open_channels())
                # announced after sending: the client hears it while the kernel works
                self._set_state("busy")
                try:
                    result = await execution.finish()
                finally:
                    self._running = None
                if result["status"] == "error" and (stop_on_error or execution.interrupted):
                    # an interrupt means stop: the cells queued after it do not run
                    for queued in self._waiting:
                        queued.aborted = True
                return result
        finally:
            if execution in self._waiting:
                self._waiting.remove(execution)
            if self._running is None and not self._waiting and self._idle_timer is None:
                # the execute response already says the cell ended: idle follows it, and
                # is never sent between the cells of a run-all
                self._idle_timer = asyncio.get_running_loop().call_later(
                    IDLE_DELAY, self._settle_idle)

    def _settle_idle(self) -> None:
        self._idle_timer = None
        if self._running is None and not self._waiting and self.state == "busy":
            self._set_state("idle")

    def execute_silently(self, code: str) -> asyncio.Future[dict[str, Any]]:
        """Run set-up code unseen (no outputs, no execution count); the future gets the
        reply content. It runs before any cell sent after it."""
        reply: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        channels = self._open_channels()

        def on_message(channel: str, msg: dict[str, Any]) -> None:
            if channel == "shell" and not reply.done():
                channels.forget(msg_id)
                content: dict[str, Any] = msg["content"]
                if content.get("status") != "ok":
                    logger.warning("kernel %s: set-up code failed: %s %s", self.kernel_id,
                                   content.get("ename"), content.get("evalue"))
                reply.set_result(content)

        msg_id = channels.send("shell", "execute_request", {
            "code": code, "silent": True, "store_history": False, "user_expressions": {},
            "allow_stdin": False, "stop_on_error": False}, on_message)
        return reply

    def _abort_all(self, running_output: dict[str, Any] | None) -> None:
        self.comms.abort_runs()
        for queued in self._waiting:
            queued.aborted = True
        if self._running is not None:
            self._running.finish_abnormally(running_output)

    # ------------------------------------------------------- introspection
    async def complete(self, code: str, cursor_pos: int,
                       timeout: float) -> dict[str, Any] | None:
        return await self._ask("complete_request", {"code": code, "cursor_pos": cursor_pos},
                               timeout)

    async def inspect(self, code: str, cursor_pos: int, detail_level: int,
                      timeout: float) -> dict[str, Any] | None:
        return await self._ask("inspect_request", {"code": code, "cursor_pos": cursor_pos,
                                                   "detail_level": detail_level}, timeout)

    @property
    def supports_subshells(self) -> bool:
        """Subshells that answer beside a running cell: ipykernel's IPython. bash_kernel
        lists them too, but both threads drive one bash, so a completion there writes
        into the running cell's output."""
        return ("kernel subshells" in self.kernel_info.get("supported_features", [])
                and self.kernel_info.get("implementation") == "ipython")

    async def _ask(self, msg_type: str, content: dict[str, Any],
                   timeout: float) -> dict[str, Any] | None:
        """A reply on a subshell when the kernel has them (answers while a cell runs)."""
        if self.state not in ("idle", "busy"):
            return None
        deadline = time.monotonic() + timeout
        subshell_id = await self._subshell(timeout) if self.supports_subshells else None
        if subshell_id is None and self.state == "busy":
            return None
        try:
            reply = await request(self._open_channels(), "shell", msg_type, content,
                                  max(0.0, deadline - time.monotonic()), subshell_id)
        except (TimeoutError, KeyError, BridgeError):
            return None
        result: dict[str, Any] = reply["content"]
        return result

    async def _subshell(self, timeout: float) -> str | None:
        async with self._subshell_lock:
            if self._subshell_id is None:
                try:
                    reply = await request(self._open_channels(), "control",
                                          "create_subshell_request", {}, timeout)
                except (TimeoutError, KeyError, BridgeError):
                    return None
                self._subshell_id = reply["content"].get("subshell_id")
            return self._subshell_id

    # ------------------------------------------------------------ lifecycle
    async def interrupt(self) -> None:
        """Interrupt the running cell the way the kernel takes it (signal or message)."""
        if self.state == "dead":
            raise BridgeError(ErrorCode.KERNEL_DEAD, "the kernel is dead; restart it")
        if self._running is None:
            # nothing of ours runs: a signal now would only hit the kernel's own code
            # (xeus-python loses its next cell to it)
            return
        self._running.interrupted = True
        if self.traits.interrupt_mode == "signal":
            await self.manager.interrupt_kernel()  # SIGINT to the kernel's process group
            return
        try:
            await request(self._open_channels(), "control", "interrupt_request", {},
                          INTERRUPT_REPLY_TIMEOUT)
        except TimeoutError:
            logger.warning("kernel %s: no interrupt_reply within %g s", self.kernel_id,
                           INTERRUPT_REPLY_TIMEOUT)

    async def restart(self) -> None:
        """Restart the process under the same kernelId; queued and running work is aborted."""
        async with self._lifecycle:
            self._set_state("restarting")
            self._abort_all(None)
            await self._stop_watching()
            await self._disconnect()
            self._untrack_process()
            try:
                if self.manager.has_kernel:
                    await self.manager.restart_kernel(now=False)
                else:
                    await self.manager.start_kernel(**(self.manager._launch_args or {}))
                await self._connect_and_wait()
            except BaseException as exc:
                if self.state != "dead":
                    self._set_state("dead", f"restart failed: {exc}")
                raise

    async def shutdown(self) -> None:
        async with self._lifecycle:
            if self.state == "dead" and not self.manager.has_kernel:
                await self._force_stop()
                return
            self._set_state("dead", "shut down")
            self._abort_all(None)
            await self._stop_watching()
            await self._disconnect()
            try:
                if self.manager.has_kernel:
                    await self.manager.shutdown_kernel(now=False)
            finally:
                await self._force_stop()

    async def _force_stop(self) -> None:
        await self._stop_watching()
        await self._disconnect()
        with contextlib.suppress(Exception):
            if self.manager.has_kernel:
                await self.manager.shutdown_kernel(now=True)
        with contextlib.suppress(Exception):
            self.manager.cleanup_connection_file()
        self._untrack_process()
        self.process_log.close()

    @property
    def pid(self) -> int | None:
        process = getattr(self.manager.provisioner, "process", None)
        return getattr(process, "pid", None)

    async def _watch(self) -> None:
        # restart and shutdown stop this watcher before they stop the process
        reason = await watch_process(self.manager)
        self.exit_reason = reason
        self._untrack_process()
        if self.state == "dead":
            return
        logger.warning("kernel %s died: %s", self.kernel_id, reason)
        self._set_state("dead", reason)
        self._abort_all(kernel_died_output(reason))

    async def _stop_watching(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None and watcher is not asyncio.current_task():
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watcher

    def _set_state(self, state: str, reason: str | None = None) -> None:
        if state == self.state and reason is None and state != "starting":
            return
        self.state = state
        self.on_status(self, state, reason)
