"""A bridge's connection to the kernel host: connect, or start the host when there is none
(one host however many bridges start at once), check its version, and carry requests,
events and kernel messages."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from bridge import __version__
from bridge.errors import BridgeError, ErrorCode
from bridge.kernels.host.frames import (
    FrameError,
    KernelFrame,
    control_frame,
    kernel_frame,
    read_frame,
)
from bridge.kernels.host.host import HOST_PROTOCOL
from bridge.kernels.host.place import HostPlace, host_pid, locked, private_place

logger = logging.getLogger(__name__)

SPAWN_TIMEOUT = 20.0
REQUEST_TIMEOUT = 30.0

MessageSink = Callable[[str, dict[str, Any], int | None], None]
EventSink = Callable[[dict[str, Any]], None]


class HostConnection:
    """One bridge's socket to the host. Kernel messages and events go to the listener
    registered for their kernel."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 place: HostPlace) -> None:
        self.place = place
        self._reader = reader
        self._writer = writer
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._messages: dict[str, MessageSink] = {}
        self._events: dict[str, EventSink] = {}
        self.closed = asyncio.Event()
        self.host_pid: int | None = None
        self._reading = asyncio.create_task(self._read())

    # ------------------------------------------------------------- opening
    @classmethod
    async def open(cls, place: HostPlace | None = None, idle_exit: float | None = None,
                   replace_old: bool = True) -> HostConnection:
        """Connect to the user's host, starting it if it is not running. A host of
        another version is asked to exit and replaced when none of its kernels is busy;
        if one is, a BridgeError says so."""
        where = place if place is not None else await asyncio.to_thread(private_place)
        connection = await cls._connect_or_spawn(where, idle_exit)
        hello = await connection.request("hello", {"version": __version__})
        if hello.get("version") == __version__ and hello.get("protocol") == HOST_PROTOCOL:
            connection.host_pid = hello.get("pid")
            return connection
        old = f"{hello.get('version')} (protocol {hello.get('protocol')})"
        if not replace_old or (await connection.request("exit", {})).get("exiting") is not True:
            await connection.close()
            raise BridgeError(ErrorCode.KERNEL_HOST_FAILED,
                              f"the kernel host runs nbbridge {old}, this bridge "
                              f"{__version__}; it has busy kernels, so it stays until they "
                              "finish (kernels of this window run without it meanwhile)")
        logger.warning("replacing the kernel host of nbbridge %s", old)
        await connection.closed.wait()
        await _wait_gone(where)
        return await cls.open(where, idle_exit, replace_old=False)

    @classmethod
    async def _connect_or_spawn(cls, place: HostPlace,
                                idle_exit: float | None) -> HostConnection:
        connection = await cls._try_connect(place)
        if connection is not None:
            return connection
        # one bridge at a time starts the host; the others find it started
        async with _spawn_lock(place):
            connection = await cls._try_connect(place)
            if connection is not None:
                return connection
            process = _spawn(place, idle_exit)
            deadline = time.monotonic() + SPAWN_TIMEOUT
            while time.monotonic() < deadline:
                connection = await cls._try_connect(place)
                if connection is not None:
                    return connection
                if process.poll() is not None:
                    break
                await asyncio.sleep(0.02)
        log_tail = _tail(place)
        raise BridgeError(ErrorCode.KERNEL_HOST_FAILED,
                          f"the kernel host did not start (see {place.log})"
                          + (f":\n{log_tail}" if log_tail else ""))

    @classmethod
    async def _try_connect(cls, place: HostPlace) -> HostConnection | None:
        try:
            reader, writer = await asyncio.open_unix_connection(str(place.socket_path))
        except (FileNotFoundError, ConnectionRefusedError):
            return None
        except PermissionError as exc:
            raise BridgeError(ErrorCode.KERNEL_HOST_FAILED,
                              f"the kernel host's socket {place.socket_path}: {exc}") from exc
        return cls(reader, writer, place)

    # ------------------------------------------------------------ requests
    async def request(self, method: str, params: dict[str, Any],
                      timeout: float | None = REQUEST_TIMEOUT) -> Any:
        if self.closed.is_set():
            raise BridgeError(ErrorCode.KERNEL_HOST_FAILED, "the kernel host is gone")
        request_id = next(self._ids)
        reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = reply
        self._writer.write(control_frame({"id": request_id, "method": method,
                                          "params": params}))
        try:
            return await asyncio.wait_for(reply, timeout)
        except TimeoutError:
            raise BridgeError(ErrorCode.KERNEL_HOST_FAILED,
                              f"the kernel host did not answer {method} "
                              f"within {timeout:g} s") from None
        finally:
            self._pending.pop(request_id, None)

    def send_message(self, kernel_id: str, channel: str, msg: dict[str, Any]) -> None:
        if self.closed.is_set():
            raise BridgeError(ErrorCode.KERNEL_DEAD, "the kernel host is gone")
        self._writer.write(kernel_frame(kernel_id, None, channel, msg))

    def listen(self, kernel_id: str, on_message: MessageSink, on_event: EventSink) -> None:
        self._messages[kernel_id] = on_message
        self._events[kernel_id] = on_event

    def unlisten(self, kernel_id: str) -> None:
        self._messages.pop(kernel_id, None)
        self._events.pop(kernel_id, None)

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()
        self._reading.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reading
        self._gone("the bridge closed its connection to the kernel host")

    # -------------------------------------------------------------- reading
    async def _read(self) -> None:
        reason = "the kernel host exited"
        try:
            while True:
                frame = await read_frame(self._reader)
                if frame is None:
                    break
                if isinstance(frame, KernelFrame):
                    sink = self._messages.get(frame.kernel_id)
                    if sink is not None:
                        sink(frame.channel, frame.msg, frame.seq)
                    continue
                self._control(frame)
        except (ConnectionError, FrameError) as exc:
            reason = f"the connection to the kernel host broke: {exc}"
        finally:
            self._gone(reason)

    def _control(self, frame: dict[str, Any]) -> None:
        if "event" in frame:
            if frame["event"] == "refused":
                logger.error("the kernel host refused this bridge: %s", frame.get("reason"))
                return
            sink = self._events.get(str(frame.get("kernelId")))
            if sink is not None:
                sink(frame)
            return
        reply = self._pending.get(frame.get("id", -1))
        if reply is None or reply.done():
            return
        error = frame.get("error")
        if isinstance(error, dict):
            code = error.get("code")
            known = isinstance(code, int) and code in {int(c) for c in ErrorCode}
            reply.set_exception(BridgeError(ErrorCode(int(code or 0)) if known
                                            else ErrorCode.KERNEL_HOST_FAILED,
                                            str(error.get("message"))))
        else:
            reply.set_result(frame.get("result"))

    def _gone(self, reason: str) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        for reply in self._pending.values():
            if not reply.done():
                reply.set_exception(BridgeError(ErrorCode.KERNEL_HOST_FAILED, reason))
        for kernel_id, sink in list(self._events.items()):
            sink({"event": "ended", "kernelId": kernel_id, "reason": reason, "said": "",
                  "seq": None})


def _spawn(place: HostPlace, idle_exit: float | None) -> subprocess.Popen[bytes]:
    """The host, in a session of its own (the editor's signals and exit do not reach it)."""
    command = [sys.executable, "-m", "bridge", "kernel-host", "--folder", str(place.folder)]
    if idle_exit is not None:
        command += ["--idle-exit", str(idle_exit)]
    log = os.open(place.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True, close_fds=True)
    finally:
        os.close(log)


@contextlib.asynccontextmanager
async def _spawn_lock(place: HostPlace) -> Any:
    holder: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    release = asyncio.Event()
    loop = asyncio.get_running_loop()

    def hold() -> None:
        with locked(place.spawn_lock):
            loop.call_soon_threadsafe(holder.set_result, None)
            asyncio.run_coroutine_threadsafe(release.wait(), loop).result()

    thread = asyncio.create_task(asyncio.to_thread(hold))
    await holder
    try:
        yield
    finally:
        release.set()
        await thread


async def _wait_gone(place: HostPlace) -> None:
    """Until the old host has stopped its kernels and let go of its life lock."""
    deadline = time.monotonic() + SPAWN_TIMEOUT
    while time.monotonic() < deadline:
        if await asyncio.to_thread(host_pid, place) is None:
            return
        await asyncio.sleep(0.05)  # another process holds the lock: no event to await


def _tail(place: HostPlace, lines: int = 20) -> str:
    try:
        return "\n".join(place.log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
