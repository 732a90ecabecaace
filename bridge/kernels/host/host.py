"""The kernel host: a per-user process that owns kernel processes and their channels, so
that kernels outlive the editor. Bridges (`nbbridge serve`) reach it over a Unix socket
(place.py) in frames (frames.py); it relays their kernel messages, signing them itself
(the kernels' keys never leave it), and keeps each kernel's journal (journal.py).

Requests ({"id", "method", "params"} -> {"id", "result"} or {"id", "error"}):
  hello {version}                       -> {version, pid, busy}
  start {kernelId, specName, spec, resourceDir, transport, cwd, extraArguments, env,
         notebookUri, cullAfter}        -> kernel summary (the caller is subscribed)
  subscribe / unsubscribe {kernelId}    the kernel's messages come to the caller / stop
  attach {kernelId, afterSeq}           -> {kernel, seq, kernelInfo, executions}; subscribed
  find {notebookUri}                    -> {kernel: summary | null}
  pair {kernelId, notebookUri}          the kernel is now that notebook's
  relaunch / interrupt / said {kernelId}; shutdown {kernelId, now}
  list                                  -> {kernels: [summary]}
  exit                                  -> {exiting}: only when no kernel is busy
Events to subscribers: {"event": "ended", kernelId, reason, said, seq} and
{"event": "execution", kernelId, msgId, executionId, cellId, seq} (a request another
client sent). Kernel messages both ways as kernel frames, numbered by the host.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import psutil
from jupyter_client.kernelspec import KernelSpec

from bridge import __version__
from bridge.errors import BridgeError, ErrorCode
from bridge.kernels.host.frames import (
    Frame,
    FrameError,
    KernelFrame,
    control_frame,
    kernel_frame,
    read_frame,
)
from bridge.kernels.host.journal import Journal
from bridge.kernels.host.place import HostPlace, hold_life_lock, peer_uid, private_place
from bridge.kernels.life import LocalLife, new_kernel_manager
from bridge.kernels.reaper import Reaper
from bridge.kernels.zmq_channels import ZmqChannels

logger = logging.getLogger(__name__)

HOST_PROTOCOL = 1
IDLE_EXIT_SECONDS = 60.0
TICK_SECONDS = 1.0
# a client that reads slower than its kernels write is let go (it can attach again)
MAX_CLIENT_BACKLOG = 256 << 20


@dataclass(eq=False)
class Client:
    writer: asyncio.StreamWriter
    label: str
    subscriptions: set[str] = field(default_factory=set)

    def send(self, data: bytes) -> None:
        if self.writer.is_closing():
            return
        self.writer.write(data)
        if self.writer.transport.get_write_buffer_size() > MAX_CLIENT_BACKLOG:
            logger.warning("client %s reads too slowly; letting it go", self.label)
            self.writer.close()


@dataclass(eq=False)
class HostedKernel:
    kernel_id: str
    spec_name: str
    notebook_uri: str | None
    life: LocalLife
    transport: str
    cull_after: float | None
    channels: ZmqChannels | None = None
    journal: Journal | None = None
    subscribers: set[Client] = field(default_factory=set)
    state: str = "starting"
    reason: str | None = None
    kernel_info: dict[str, Any] = field(default_factory=dict)
    seq: int = 0
    started_at: float = field(default_factory=time.time)
    last_activity: float = field(default_factory=time.time)
    detached_since: float | None = None
    watcher: asyncio.Task[None] | None = None

    @property
    def busy(self) -> bool:
        running = self.journal is not None and bool(self.journal.running())
        return self.state in ("busy", "starting") or running

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def summary(self) -> dict[str, Any]:
        return {"kernelId": self.kernel_id, "specName": self.spec_name,
                "notebookUri": self.notebook_uri, "state": self.state,
                "reason": self.reason, "pid": self.life.pid,
                "connectionFile": self.life.manager.connection_file,
                "transport": self.transport, "memory": _memory(self.life.pid),
                "lastActivity": self.last_activity * 1000.0,
                "startedAt": self.started_at * 1000.0, "clients": len(self.subscribers),
                "busy": self.busy, "seq": self.seq}


class KernelHost:
    def __init__(self, place: HostPlace, idle_exit: float = IDLE_EXIT_SECONDS) -> None:
        self.place = place
        self.idle_exit = idle_exit
        self.kernels: dict[str, HostedKernel] = {}
        self.clients: set[Client] = set()
        self.finished = asyncio.Event()
        self._empty_since = time.monotonic()
        self._reaper = Reaper()
        self._numbers = 0
        self._server: asyncio.Server | None = None
        self._kernel_folder = os.path.join(place.folder, "kernels")

    # -------------------------------------------------------------- serving
    async def serve(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.place.socket_path.unlink()  # a dead host's; the life lock is ours
        os.makedirs(self._kernel_folder, mode=0o700, exist_ok=True)
        old_mask = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(
                self._serve_client, path=str(self.place.socket_path))
        finally:
            os.umask(old_mask)
        os.chmod(self.place.socket_path, 0o600)
        ticking = asyncio.create_task(self._tick())
        try:
            await self.finished.wait()
        finally:
            ticking.cancel()
            self._server.close()
            with contextlib.suppress(FileNotFoundError):
                self.place.socket_path.unlink()
            await self.stop_all()
            for client in list(self.clients):
                client.writer.close()  # the server's close leaves open connections be

    async def _serve_client(self, reader: asyncio.StreamReader,
                            writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        uid = peer_uid(sock)
        pid = writer.get_extra_info("peername")
        if uid != os.getuid():
            logger.warning("refused a client of uid %d", uid)
            writer.write(control_frame({"event": "refused", "reason":
                                        f"the kernel host serves uid {os.getuid()} only"}))
            await _close(writer)
            return
        client = Client(writer, f"{pid or 'peer'}#{len(self.clients) + 1}")
        self.clients.add(client)
        try:
            while True:
                try:
                    frame = await read_frame(reader)
                except FrameError as exc:
                    logger.warning("client %s: %s; closing it", client.label, exc)
                    client.send(control_frame({"event": "refused", "reason": str(exc)}))
                    break
                if frame is None:
                    break
                await self._handle(client, frame)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._forget_client(client)
            await _close(writer)

    def _forget_client(self, client: Client) -> None:
        self.clients.discard(client)
        for kernel_id in client.subscriptions:
            kernel = self.kernels.get(kernel_id)
            if kernel is not None:
                self._unsubscribe(kernel, client)
        client.subscriptions.clear()
        if not self.clients and not self.kernels:
            self._empty_since = time.monotonic()

    async def _handle(self, client: Client, frame: Frame) -> None:
        if isinstance(frame, KernelFrame):
            self._relay(client, frame)
            return
        request_id = frame.get("id")
        method = frame.get("method")
        params = frame.get("params", {})
        try:
            if not isinstance(method, str) or not isinstance(params, dict):
                raise BridgeError(ErrorCode.INVALID_PARAMS,
                                  "a request needs a method and an object of params")
            handler = getattr(self, f"do_{method}", None)
            if handler is None:
                raise BridgeError(ErrorCode.INVALID_PARAMS, f"no host method {method!r}")
            result = await handler(client, params)
            reply: dict[str, Any] = {"id": request_id, "result": result}
        except BridgeError as exc:
            reply = {"id": request_id, "error": {"code": exc.code, "message": exc.message}}
        except Exception as exc:
            logger.exception("host method %s failed", method)
            reply = {"id": request_id, "error": {"code": int(ErrorCode.KERNEL_HOST_FAILED),
                                                 "message": f"{method}: {exc}"}}
        client.send(control_frame(reply))

    # ------------------------------------------------------------- requests
    async def do_hello(self, client: Client, params: dict[str, Any]) -> dict[str, Any]:
        return {"version": __version__, "protocol": HOST_PROTOCOL, "pid": os.getpid(),
                "busy": sum(kernel.busy for kernel in self.kernels.values())}

    async def do_start(self, client: Client, params: dict[str, Any]) -> dict[str, Any]:
        kernel_id = _string(params, "kernelId")
        if kernel_id in self.kernels:
            raise BridgeError(ErrorCode.INVALID_PARAMS, f"kernel {kernel_id} exists")
        spec_dict = params.get("spec")
        if not isinstance(spec_dict, dict):
            raise BridgeError(ErrorCode.INVALID_PARAMS, "'spec' must be a kernelspec")
        spec = KernelSpec(resource_dir=str(params.get("resourceDir") or ""), **spec_dict)
        self._numbers += 1
        name = _string(params, "specName")
        manager, transport = new_kernel_manager(
            name, kernel_id, "ipc" if params.get("transport") == "ipc" else "tcp",
            self._kernel_folder, self._numbers, spec=spec)
        env = params.get("env")
        life = LocalLife(manager, params.get("cwd"), params.get("extraArguments"),
                         self._reaper, env if isinstance(env, dict) else None)
        cull_after = params.get("cullAfter")
        kernel = HostedKernel(kernel_id, name, params.get("notebookUri"), life, transport,
                              float(cull_after) if isinstance(cull_after, int | float)
                              else None)
        self.kernels[kernel_id] = kernel
        self._subscribe(kernel, client)
        try:
            await life.launch()
        except Exception as exc:
            await self._remove(kernel)
            raise BridgeError(ErrorCode.KERNEL_START_FAILED,
                              f"kernel {name!r} could not be started: {exc}") from exc
        await self._connect(kernel)
        return kernel.summary()

    async def do_subscribe(self, client: Client, params: dict[str, Any]) -> dict[str, Any]:
        kernel = self._kernel(params)
        self._subscribe(kernel, client)
        return kernel.summary()

    async def do_unsubscribe(self, client: Client, params: dict[str, Any]) -> None:
        kernel = self.kernels.get(_string(params, "kernelId"))
        if kernel is not None:
            self._unsubscribe(kernel, client)
            client.subscriptions.discard(kernel.kernel_id)

    async def do_attach(self, client: Client, params: dict[str, Any]) -> dict[str, Any]:
        kernel = self._kernel(params)
        after = params.get("afterSeq")
        # the snapshot and the subscription in one step: the next message is seq + 1
        self._subscribe(kernel, client)
        journal = kernel.journal
        return {"kernel": kernel.summary(), "seq": kernel.seq,
                "kernelInfo": kernel.kernel_info,
                "executions": [] if journal is None else journal.since(
                    after if isinstance(after, int) else None)}

    async def do_find(self, client: Client, params: dict[str, Any]) -> dict[str, Any]:
        uri = _string(params, "notebookUri")
        found = [k for k in self.kernels.values() if k.notebook_uri == uri]
        found.sort(key=lambda k: (k.state != "dead", k.started_at))
        return {"kernel": found[-1].summary() if found else None}

    async def do_pair(self, client: Client, params: dict[str, Any]) -> None:
        self._kernel(params).notebook_uri = params.get("notebookUri")

    async def do_relaunch(self, client: Client, params: dict[str, Any]) -> dict[str, Any]:
        kernel = self._kernel(params)
        await self._disconnect(kernel)
        kernel.state = "starting"
        await kernel.life.relaunch()
        await self._connect(kernel)
        return kernel.summary()

    async def do_interrupt(self, client: Client, params: dict[str, Any]) -> None:
        await self._kernel(params).life.signal_interrupt()

    async def do_said(self, client: Client, params: dict[str, Any]) -> dict[str, Any]:
        kernel = self._kernel(params)
        await kernel.life.said_all(1.0)
        return {"text": kernel.life.said()}

    async def do_shutdown(self, client: Client, params: dict[str, Any]) -> None:
        kernel = self.kernels.get(_string(params, "kernelId"))
        if kernel is not None:
            await self._shut_down(kernel, now=bool(params.get("now")),
                                  reason="shut down from another window", by=client)

    async def do_list(self, client: Client, params: dict[str, Any]) -> dict[str, Any]:
        return {"kernels": [kernel.summary() for kernel in self.kernels.values()]}

    async def do_exit(self, client: Client, params: dict[str, Any]) -> dict[str, Any]:
        if any(kernel.busy for kernel in self.kernels.values()):
            return {"exiting": False}
        self.finished.set()
        return {"exiting": True}

    def _kernel(self, params: dict[str, Any]) -> HostedKernel:
        kernel_id = _string(params, "kernelId")
        try:
            return self.kernels[kernel_id]
        except KeyError:
            raise BridgeError(ErrorCode.UNKNOWN_KERNEL,
                              f"the kernel host has no kernel {kernel_id!r}") from None

    # ------------------------------------------------------------- relaying
    def _relay(self, client: Client, frame: KernelFrame) -> None:
        kernel = self.kernels.get(frame.kernel_id)
        if kernel is None or kernel.channels is None or kernel.journal is None:
            client.send(control_frame({"event": "ended", "kernelId": frame.kernel_id,
                                       "reason": "the kernel host has no such kernel",
                                       "said": "", "seq": None}))
            return
        msg = frame.msg
        kernel.last_activity = time.time()
        msg_type = msg["header"].get("msg_type")
        if frame.channel == "shell" and msg_type == "execute_request":
            entry = kernel.journal.begin(msg, kernel.next_seq())
            event = control_frame({"event": "execution", "kernelId": kernel.kernel_id,
                                   "msgId": entry.msg_id, "executionId": entry.execution_id,
                                   "cellId": entry.cell_id, "seq": entry.seq})
            for other in kernel.subscribers - {client}:
                other.send(event)
        elif frame.channel == "stdin" and msg_type == "input_reply":
            kernel.journal.input_answered(kernel.next_seq())
        try:
            kernel.channels.send_message(frame.channel, msg)
        except Exception:
            logger.exception("kernel %s: relaying %s failed", kernel.kernel_id, msg_type)

    def _from_kernel(self, kernel: HostedKernel, channel: str, msg: dict[str, Any]) -> None:
        seq = kernel.next_seq()
        msg_type = msg["header"].get("msg_type")
        if channel == "iopub" and msg_type == "status":
            state = msg["content"].get("execution_state")
            if state in ("busy", "idle") and kernel.state != "dead":
                kernel.state = state
            kernel.last_activity = time.time()
        elif channel == "shell" and msg_type == "kernel_info_reply":
            kernel.kernel_info = msg["content"]
        if kernel.journal is not None:
            kernel.journal.on_message(channel, msg, seq)
        if kernel.subscribers:
            data = kernel_frame(kernel.kernel_id, seq, channel, msg)
            for client in kernel.subscribers:
                client.send(data)

    def _subscribe(self, kernel: HostedKernel, client: Client) -> None:
        kernel.subscribers.add(client)
        client.subscriptions.add(kernel.kernel_id)
        kernel.detached_since = None

    def _unsubscribe(self, kernel: HostedKernel, client: Client) -> None:
        kernel.subscribers.discard(client)
        if not kernel.subscribers:
            kernel.detached_since = time.time()

    # ------------------------------------------------------------ lifecycle
    async def _connect(self, kernel: HostedKernel) -> None:
        life = kernel.life
        channels = life.channels(lambda link: None)
        assert isinstance(channels, ZmqChannels)
        channels.set_fallback(lambda channel, msg: self._from_kernel(kernel, channel, msg))
        await channels.open()
        kernel.channels = channels
        if kernel.journal is None:
            kernel.journal = Journal(channels)
        else:
            kernel.journal.channels = channels
        kernel.state = "starting"
        kernel.reason = None
        kernel.watcher = asyncio.create_task(self._watch(kernel))

    async def _disconnect(self, kernel: HostedKernel) -> None:
        watcher, kernel.watcher = kernel.watcher, None
        if watcher is not None and watcher is not asyncio.current_task():
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watcher
        channels, kernel.channels = kernel.channels, None
        if channels is not None:
            await channels.close()

    async def _watch(self, kernel: HostedKernel) -> None:
        reason = await kernel.life.ended()
        kernel.state = "dead"
        kernel.reason = reason
        seq = kernel.next_seq()
        if kernel.journal is not None:
            kernel.journal.kernel_died(reason, seq)
        await kernel.life.said_all(1.0)
        event = control_frame({"event": "ended", "kernelId": kernel.kernel_id,
                               "reason": reason, "said": kernel.life.said(), "seq": seq})
        for client in kernel.subscribers:
            client.send(event)
        logger.warning("kernel %s ended: %s", kernel.kernel_id, reason)

    async def _shut_down(self, kernel: HostedKernel, now: bool, reason: str = "shut down",
                         by: Client | None = None) -> None:
        await self._disconnect(kernel)
        try:
            await kernel.life.stop(now=now)
        finally:
            event = control_frame({"event": "ended", "kernelId": kernel.kernel_id,
                                   "reason": reason, "said": "", "seq": kernel.next_seq()})
            for client in kernel.subscribers - {by}:
                client.send(event)
            await self._remove(kernel)

    async def _remove(self, kernel: HostedKernel) -> None:
        self.kernels.pop(kernel.kernel_id, None)
        for client in kernel.subscribers:
            client.subscriptions.discard(kernel.kernel_id)
        if not self.kernels and not self.clients:
            self._empty_since = time.monotonic()

    async def stop_all(self) -> None:
        await asyncio.gather(*(self._shut_down(kernel, now=False)
                               for kernel in list(self.kernels.values())),
                             return_exceptions=True)
        self._reaper.close()

    async def _tick(self) -> None:
        """Cull detached idle kernels; end the host once it has nothing to do."""
        while True:
            await asyncio.sleep(TICK_SECONDS)
            wall = time.time()
            for kernel in list(self.kernels.values()):
                if kernel.cull_after is None or kernel.subscribers or kernel.busy:
                    continue
                since = max(kernel.last_activity, kernel.detached_since or 0.0)
                if wall - since >= kernel.cull_after:
                    logger.info("culling kernel %s: detached and idle for %.0f s",
                                kernel.kernel_id, wall - since)
                    await self._shut_down(kernel, now=False)
            if self.kernels or self.clients:
                self._empty_since = time.monotonic()
            elif time.monotonic() - self._empty_since >= self.idle_exit:
                logger.info("no kernels and no clients for %.0f s: exiting", self.idle_exit)
                self.finished.set()


def _string(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise BridgeError(ErrorCode.INVALID_PARAMS, f"parameter {name!r} must be a string")
    return value


def _memory(pid: int | None) -> int | None:
    """Resident memory of the kernel and its children, in bytes."""
    if pid is None:
        return None
    try:
        process = psutil.Process(pid)
        return int(process.memory_info().rss + sum(
            child.memory_info().rss for child in process.children(recursive=True)))
    except psutil.Error:
        return None


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()


def add_host_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--folder", help="the runtime folder (default: the per-user one)")
    parser.add_argument("--idle-exit", type=float, default=IDLE_EXIT_SECONDS,
                        help="exit after this many seconds without kernels or clients")


def host_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    try:
        place = private_place(Path(args.folder) if args.folder else None)
    except BridgeError as exc:
        print(f"nbbridge kernel-host: {exc.message}", file=sys.stderr)
        return 2
    lock = hold_life_lock(place)
    if lock is None:
        print(f"nbbridge kernel-host: a host already runs in {place.folder}", file=sys.stderr)
        return 0
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the editor's Ctrl+C is not ours
    return asyncio.run(_run(place, args.idle_exit))


async def _run(place: HostPlace, idle_exit: float) -> int:
    host = KernelHost(place, idle_exit)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, host.finished.set)
    await host.serve()
    return 0
