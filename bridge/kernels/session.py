"""One running kernel: start, execute with routed outputs, interrupt, restart, death.

The kernel process is owned by jupyter_client's AsyncKernelManager. The session opens
its own socket per ZMQ channel and has exactly one reader on each (a callback on the
socket's FD), routing every message by its parent msg_id (a second reader on a channel
would steal messages).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
import zmq
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.session import Session

from bridge.errors import BridgeError, ErrorCode
from bridge.kernels.execution import Execution, kernel_died_output
from bridge.kernels.watch import watch_process

logger = logging.getLogger(__name__)

OutputCallback = Callable[[dict[str, Any]], None]
InputCallback = Callable[[str, bool], Awaitable[str]]
StatusCallback = Callable[["KernelSession", str, str | None], None]
RouteHandler = Callable[[str, dict[str, Any]], None]

READY_TIMEOUT = 60.0
SHUTDOWN_WAIT = 3.0
IDLE_DELAY = 0.005
# ZMQ retries a connect to a not yet bound ipc socket every reconnect_ivl; its default
# (100 ms) would add up to that much to every kernel start.
RECONNECT_MS = 10
MAX_BURST = 256
RETIRED_CELLS = 64
_CHANNELS = {"shell": zmq.DEALER, "iopub": zmq.SUB, "stdin": zmq.DEALER, "control": zmq.DEALER}


def decode(session: Session, parts: list[bytes]) -> dict[str, Any]:
    """A signed Jupyter message -> dict, like Session.deserialize but without its costs.

    Session.deserialize parses every date of every header with dateutil: about 0.2 ms
    per message, a fifth of a `1+1` round trip. Here the signature is checked the same
    way and the JSON parsed with orjson; dates stay ISO strings.
    """
    _, found = session.feed_identities(parts)
    frames = [f if isinstance(f, bytes) else f.bytes for f in found]
    if len(frames) < 5:
        raise ValueError(f"malformed message: {len(frames)} frames")
    if session.auth is not None:
        signature = frames[0]
        if not signature or not hmac.compare_digest(signature, session.sign(frames[1:5])):
            raise ValueError("message with an invalid signature")
    try:
        header, parent, metadata, content = (orjson.loads(f) for f in frames[1:5])
    except orjson.JSONDecodeError:
        header, parent, metadata, content = (session.unpack(f) for f in frames[1:5])
    return {"header": header, "msg_id": header.get("msg_id"),
            "msg_type": header.get("msg_type"), "parent_header": parent,
            "metadata": metadata, "content": content, "buffers": frames[5:]}


def _url(info: Mapping[str, Any], channel: str) -> str:
    port = info[f"{channel}_port"]
    if info["transport"] == "ipc":
        return f"ipc://{info['ip']}-{port}"
    return f"{info['transport']}://{info['ip']}:{port}"


class KernelSession:
    """One running kernel, on jupyter_client's AsyncKernelManager."""

    def __init__(self, manager: AsyncKernelManager, notebook_uri: str | None,
                 on_status: StatusCallback) -> None:
        self.manager = manager
        self.kernel_id: str = manager.kernel_id
        self.spec_name: str = manager.kernel_name
        self.notebook_uri = notebook_uri
        self.language_info: dict[str, Any] = {}
        self.kernel_info: dict[str, Any] = {}
        self.state = "starting"
        self.on_status = on_status
        self.session: Session = manager.session
        self._sockets: dict[str, zmq.Socket[bytes]] = {}
        self._routes: dict[str, RouteHandler] = {}
        self._retired: OrderedDict[str, None] = OrderedDict()
        self._iopub_seen = asyncio.Event()
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
                    ready_timeout: float = READY_TIMEOUT) -> KernelSession:
        """Launch the kernel process and return once it answers on shell and iopub
        (a BridgeError after `ready_timeout` seconds, with the process stopped)."""
        session = cls(manager, notebook_uri, on_status)
        session.ready_timeout = ready_timeout
        session._set_state("starting")
        try:
            await manager.start_kernel(cwd=cwd)
            await session._connect_and_wait()
        except BaseException:
            await session._force_stop()
            raise
        return session

    async def _connect_and_wait(self) -> None:
        self._connect()
        self._watcher = asyncio.create_task(self._watch())
        await self._wait_ready()
        self._set_state("idle")

    def _connect(self) -> None:
        info = self.manager.get_connection_info()
        context: zmq.Context[zmq.Socket[bytes]] = zmq.Context.instance()
        loop = asyncio.get_running_loop()
        for channel, kind in _CHANNELS.items():
            socket = context.socket(kind)
            socket.linger = 0
            socket.reconnect_ivl = RECONNECT_MS
            if channel in ("shell", "stdin"):
                # the kernel sends input_request to the stdin peer named like the shell one
                socket.identity = self.session.bsession
            if channel == "iopub":
                socket.subscribe(b"")
                # queue in this process's ZMQ thread while the loop is busy: at the
                # default high-water mark the kernel's PUB socket would drop output
                socket.rcvhwm = 0
            if self.manager.curve_publickey is not None:
                socket.curve_secretkey = self.manager.curve_secretkey
                socket.curve_publickey = self.manager.curve_publickey
                socket.curve_serverkey = self.manager.curve_publickey
            socket.connect(_url(info, channel))
            self._sockets[channel] = socket
            loop.add_reader(socket.FD, self._drain, channel)
            loop.call_soon(self._drain, channel)

    async def _disconnect(self) -> None:
        loop = asyncio.get_running_loop()
        for socket in self._sockets.values():
            loop.remove_reader(socket.FD)
            socket.close(linger=0)
        self._sockets.clear()
        for msg_id in self._retired:
            self.forget(msg_id)
        self._retired.clear()
        self._iopub_seen.clear()
        self._subshell_id = None

    async def _wait_ready(self) -> None:
        """kernel_info until the shell answers and iopub delivers (no late-joiner loss)."""
        deadline = time.monotonic() + self.ready_timeout
        reply: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            if self.state == "dead":
                raise BridgeError(ErrorCode.KERNEL_START_FAILED,
                                  f"kernel {self.spec_name!r} exited during start: "
                                  f"{self.exit_reason}")
            try:
                reply = await self.request("shell", "kernel_info_request", {}, timeout=1.0)
            except TimeoutError:
                continue
            try:
                await asyncio.wait_for(self._iopub_seen.wait(), 0.5)
            except TimeoutError:
                continue
            break
        if reply is None or not self._iopub_seen.is_set():
            raise BridgeError(ErrorCode.KERNEL_START_FAILED,
                              f"kernel {self.spec_name!r} did not answer within "
                              f"{self.ready_timeout:g} s")
        self.kernel_info = reply["content"]
        self.language_info = dict(self.kernel_info.get("language_info", {}))

    # -------------------------------------------------------------- routing
    def _drain(self, channel: str) -> None:
        """The one reader of a channel: route every waiting message by parent msg_id.

        A plain socket read when its FD wakes the loop, cheaper than zmq.asyncio's
        future per message. ZMQ's FD is edge-triggered: read until nothing is left, and
        after a burst of MAX_BURST messages let the loop breathe and come back.
        """
        socket = self._sockets.get(channel)
        if socket is None:
            return
        for _ in range(MAX_BURST):
            try:
                parts = socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            except zmq.ZMQError:
                logger.exception("kernel %s: %s socket failed", self.kernel_id, channel)
                return
            self._route(channel, parts)
        asyncio.get_running_loop().call_soon(self._drain, channel)

    def _route(self, channel: str, parts: list[bytes]) -> None:
        try:
            msg = decode(self.session, parts)
        except Exception:
            logger.exception("kernel %s: unreadable %s message", self.kernel_id, channel)
            return
        if channel == "iopub":
            self._iopub_seen.set()
        handler = self._routes.get(msg["parent_header"].get("msg_id", ""))
        if handler is not None:
            try:
                handler(channel, msg)
            except Exception:
                logger.exception("kernel %s: handling %s failed", self.kernel_id,
                                 msg["header"].get("msg_type"))

    def send(self, channel: str, msg_type: str, content: dict[str, Any],
             handler: RouteHandler | None = None, subshell_id: str | None = None) -> str:
        """Send one message; ``handler`` gets every message parented to it. Returns msg_id."""
        msg = self.session.msg(msg_type, content)
        if subshell_id is not None:
            msg["header"]["subshell_id"] = subshell_id
        msg_id: str = msg["header"]["msg_id"]
        if handler is not None:
            self._routes[msg_id] = handler
        self.session.send(self._sockets[channel], msg)
        # a send can swallow the FD's wake-up for a reply that is already in
        asyncio.get_running_loop().call_soon(self._drain, channel)
        return msg_id

    def forget(self, msg_id: str) -> None:
        self._routes.pop(msg_id, None)

    def retire(self, msg_id: str) -> None:
        """Keep routing a finished cell's late iopub output (from threads, timers) to
        it, as long as it is among the kernel's last RETIRED_CELLS cells."""
        self._retired[msg_id] = None
        while len(self._retired) > RETIRED_CELLS:
            self.forget(self._retired.popitem(last=False)[0])

    async def request(self, channel: str, msg_type: str, content: dict[str, Any],
                      timeout: float, subshell_id: str | None = None) -> dict[str, Any]:
        """Send a request and return its reply (raises TimeoutError)."""
        reply: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

        def on_message(got_channel: str, msg: dict[str, Any]) -> None:
            if got_channel == channel and not reply.done():
                reply.set_result(msg)

        msg_id = self.send(channel, msg_type, content, on_message, subshell_id)
        try:
            return await asyncio.wait_for(reply, timeout)
        finally:
            self.forget(msg_id)

    # ------------------------------------------------------------ execution
    async def execute(self, code: str, execution_id: str, on_output: OutputCallback,
                      on_input: InputCallback | None = None,
                      stop_on_error: bool = True) -> dict[str, Any]:
        """Run one cell after those queued before it; outputs go to ``on_output``."""
        execution = Execution(self, code, execution_id, on_output, on_input, stop_on_error)
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
                execution.send()
                # announced after sending: the client hears it while the kernel works
                self._set_state("busy")
                try:
                    result = await execution.finish()
                finally:
                    self._running = None
                if result["status"] == "error" and stop_on_error:
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

        def on_message(channel: str, msg: dict[str, Any]) -> None:
            if channel == "shell" and not reply.done():
                self.forget(msg_id)
                content: dict[str, Any] = msg["content"]
                if content.get("status") != "ok":
                    logger.warning("kernel %s: set-up code failed: %s %s", self.kernel_id,
                                   content.get("ename"), content.get("evalue"))
                reply.set_result(content)

        msg_id = self.send("shell", "execute_request", {
            "code": code, "silent": True, "store_history": False, "user_expressions": {},
            "allow_stdin": False, "stop_on_error": False}, on_message)
        return reply

    def _abort_all(self, running_output: dict[str, Any] | None) -> None:
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
        return "kernel subshells" in self.kernel_info.get("supported_features", [])

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
            reply = await self.request("shell", msg_type, content,
                                       max(0.0, deadline - time.monotonic()), subshell_id)
        except (TimeoutError, KeyError):
            return None
        result: dict[str, Any] = reply["content"]
        return result

    async def _subshell(self, timeout: float) -> str | None:
        async with self._subshell_lock:
            if self._subshell_id is None:
                try:
                    reply = await self.request("control", "create_subshell_request", {},
                                               timeout)
                except (TimeoutError, KeyError):
                    return None
                self._subshell_id = reply["content"].get("subshell_id")
            return self._subshell_id

    # ------------------------------------------------------------ lifecycle
    async def interrupt(self) -> None:
        """Interrupt the running cell the way the kernelspec asks (signal or message)."""
        if self.state == "dead":
            raise BridgeError(ErrorCode.KERNEL_DEAD, "the kernel is dead; restart it")
        await self.manager.interrupt_kernel()

    async def restart(self) -> None:
        """Restart the process under the same kernelId; queued and running work is aborted."""
        async with self._lifecycle:
            self._set_state("restarting")
            self._abort_all(None)
            await self._stop_watching()
            await self._disconnect()
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

    @property
    def pid(self) -> int | None:
        process = getattr(self.manager.provisioner, "process", None)
        return getattr(process, "pid", None)

    async def _watch(self) -> None:
        # restart and shutdown stop this watcher before they stop the process
        reason = await watch_process(self.manager)
        self.exit_reason = reason
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
