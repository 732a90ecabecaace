"""One running kernel: its life (start, restart, shutdown, death), the queue of cells
that run on it, and introspection (complete, inspect).

Where the kernel runs is its `KernelLife` (bridge.kernels.life: a local process, or a
kernel on a Jupyter Server); its messages go through the `KernelChannels` that life makes
(bridge.kernels.channels), the only thing that talks to the kernel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bridge.errors import BridgeError, ErrorCode
from bridge.kernels.channels import KernelChannels, request
from bridge.kernels.comms import CommSink, KernelComms
from bridge.kernels.execution import Execution, kernel_died_output
from bridge.kernels.life import KernelLife

if TYPE_CHECKING:
    from bridge.kernels.host.life import HostChannels, HostLife
from bridge.kernels.traits import KernelTraits

logger = logging.getLogger(__name__)

OutputCallback = Callable[[dict[str, Any]], None]
InputCallback = Callable[[str, bool], Awaitable[str]]
StatusCallback = Callable[["KernelSession", str, str | None], None]

READY_TIMEOUT = 60.0
IDLE_DELAY = 0.005
INTERRUPT_REPLY_TIMEOUT = 5.0


class KernelSession:
    """One running kernel, wherever its life puts it."""

    def __init__(self, life: KernelLife, notebook_uri: str | None,
                 on_status: StatusCallback, traits: KernelTraits | None = None) -> None:
        self.life = life
        self.traits = traits or KernelTraits("ipc", "signal")
        self.kernel_id: str = life.kernel_id
        self.spec_name: str = life.spec_name
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
        # counts (re)starts: what a kernel was told before a restart is gone after it
        self.incarnation = 0
        # the interpreter of a Python kernel from another environment than the bridge's
        self.python: str | None = None

    # ---------------------------------------------------------------- start
    @classmethod
    async def start(cls, life: KernelLife, notebook_uri: str | None,
                    on_status: StatusCallback, ready_timeout: float = READY_TIMEOUT,
                    traits: KernelTraits | None = None) -> KernelSession:
        """Launch the kernel and return once it answers on shell and iopub
        (a BridgeError after `ready_timeout` seconds, with the kernel stopped)."""
        session = cls(life, notebook_uri, on_status, traits)
        session.ready_timeout = ready_timeout
        session._set_state("starting")
        try:
            await life.launch()
            await session._connect_and_wait()
        except BaseException:
            await session._force_stop()
            raise
        return session

    @classmethod
    async def attach(cls, life: HostLife, notebook_uri: str | None,
                     on_status: StatusCallback,
                     traits: KernelTraits | None = None) -> tuple[KernelSession, HostChannels]:
        """A session on a kernel the kernel host already runs, as it is now (no ready
        wait: a running cell holds its shell). The channels hold the kernel's messages
        until their `release`, after `follow` has been called for the running cells."""
        session = cls(life, notebook_uri, on_status, traits)
        session.incarnation += 1
        channels = life.channels(session._link_changed)
        session.channels = channels
        await channels.open()
        attached = channels.attached or {}
        session.kernel_info = dict(attached.get("kernelInfo") or {})
        session.language_info = dict(session.kernel_info.get("language_info", {}))
        session.comms.attach(channels)
        session._watcher = asyncio.create_task(session._watch())
        state = str((attached.get("kernel") or {}).get("state") or "idle")
        session._set_state("busy" if state == "busy" else "idle")
        return session, channels

    def follow(self, msg_id: str, execution_id: str, on_output: OutputCallback,
               on_input: InputCallback | None, pending_input: dict[str, Any] | None = None,
               on_comm: CommSink | None = None) -> asyncio.Task[dict[str, Any]]:
        """Follow a cell that someone else sent (this bridge before it restarted, or
        another client of the kernel host): its later outputs go to `on_output`; it
        holds the queue's turn until it ends. The task gets its result."""
        channels = self._open_channels()
        execution = Execution("", execution_id, on_output, on_input, stop_on_error=True,
                              interrupt=self.interrupt,
                              iopub_filter=self.comms.filter(on_comm))
        execution.observe(channels, msg_id)
        channels.follow(msg_id, execution.on_message)
        if pending_input:
            execution.ask_input(str(pending_input.get("prompt", "")),
                                bool(pending_input.get("password", False)))
        return asyncio.create_task(self._hold_turn(execution))

    async def _hold_turn(self, execution: Execution) -> dict[str, Any]:
        self._waiting.append(execution)
        try:
            async with self._turn:
                self._waiting.remove(execution)
                if execution.aborted:  # a restart or shutdown came first
                    execution.finish_abnormally(None)
                    return await execution.finish()
                self._running = execution
                self._set_state("busy")
                try:
                    return await execution.finish()
                finally:
                    self._running = None
        finally:
            self._leave_queue(execution)

    async def _connect_and_wait(self) -> None:
        self.incarnation += 1
        self.channels = self.life.channels(self._link_changed)
        await self.channels.open()
        self.comms.attach(self.channels)
        self._watcher = asyncio.create_task(self._watch())
        await self._wait_ready()
        if self.traits.setup_code:
            await self.execute_silently(self.traits.setup_code)
        self._set_state("idle")

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
                await self.life.said_all(1.0)
                said = self.life.said()
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
            said = self.life.said()
            raise BridgeError(ErrorCode.KERNEL_START_FAILED,
                              f"kernel {self.spec_name!r} did not answer within "
                              f"{self.ready_timeout:g} s"
                              + (f"; it said:\n{said}" if said else ""))
        self.kernel_info = reply["content"]
        self.language_info = dict(self.kernel_info.get("language_info", {}))

    @property
    def seq(self) -> int:
        """The number of the kernel's latest message (the kernel host's where it runs
        the kernel): a client that knows it can ask for what came after."""
        return self.channels.seq if self.channels is not None else 0

    # ------------------------------------------------------------ execution
    async def execute(self, code: str, execution_id: str, on_output: OutputCallback,
                      on_input: InputCallback | None = None,
                      stop_on_error: bool = True,
                      on_comm: CommSink | None = None,
                      cell_id: str | None = None) -> dict[str, Any]:
        """Run one cell after those queued before it; outputs go to ``on_output``, its comm
        messages to ``on_comm``."""
        label = {"executionId": execution_id, "cellId": cell_id,
                 "notebookUri": self.notebook_uri}
        metadata: dict[str, Any] = {"nbbridge": label}
        if cell_id is not None:
            metadata["cellId"] = cell_id
        execution = Execution(code, execution_id, on_output, on_input, stop_on_error,
                              interrupt=self.interrupt,
                              iopub_filter=self.comms.filter(on_comm),
                              request_metadata=metadata)
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
            self._leave_queue(execution)

    def _leave_queue(self, execution: Execution) -> None:
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
            await self.life.signal_interrupt()
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
            try:
                await self.life.relaunch()
                await self._connect_and_wait()
            except BaseException as exc:
                if self.state != "dead":
                    self._set_state("dead", f"restart failed: {exc}")
                raise

    async def shutdown(self) -> None:
        async with self._lifecycle:
            if self.state == "dead" and not self.life.running:
                await self._force_stop()
                return
            self._set_state("dead", "shut down")
            self._abort_all(None)
            await self._stop_watching()
            await self._disconnect()
            await self.life.stop(now=False)

    async def _force_stop(self) -> None:
        await self._stop_watching()
        await self._disconnect()
        await self.life.stop(now=True)

    async def _watch(self) -> None:
        # restart and shutdown stop this watcher before they stop the kernel
        reason = await self.life.ended()
        self.exit_reason = reason
        if self.state == "dead":
            return
        logger.warning("kernel %s died: %s", self.kernel_id, reason)
        self._abort_all(kernel_died_output(reason))
        if not self.life.came_back:
            self._set_state("dead", reason)
            return
        # its server restarted it: the state is gone, the kernel is there again
        async with self._lifecycle:
            self._set_state("restarting", reason)
            await self._disconnect()
            try:
                await self._connect_and_wait()
            except BaseException as exc:
                self._set_state("dead", f"{reason}; reconnecting failed: {exc}")
                raise

    def _link_changed(self, link: str) -> None:
        """The link to a kernel elsewhere dropped or came back."""
        if self.state in ("dead", "starting", "restarting"):
            return
        if link in ("disconnected", "reconnecting"):
            self._set_state(link)
        elif link == "connected":
            self._set_state("busy" if self._running is not None else "idle")

    async def detach(self) -> None:
        """Let go of a kernel the bridge does not own; it goes on running where it is."""
        async with self._lifecycle:
            self._abort_all(None)
            await self._stop_watching()
            await self._disconnect()
            if self.life.owned:
                await self.life.stop(now=True)

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
