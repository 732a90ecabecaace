"""The third kernel life: a kernel the kernel host runs (bridge.kernels.host.host), so it
goes on running when this bridge ends. Its channels are relayed by the host."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Callable
from typing import Any

from jupyter_client.session import Session

from bridge.errors import BridgeError
from bridge.kernels.channels import RoutedChannels, RouteHandler, Router
from bridge.kernels.host.client import EventSink, HostConnection
from bridge.kernels.life import LinkCallback
from bridge.kernels.wire import as_wire

ExecutionEvent = Callable[[dict[str, Any]], None]


class HostChannels(RoutedChannels):
    """The `KernelChannels` of a hosted kernel: messages through the host's socket.

    With `attach_after`, opening attaches (the host answers with the journal) and holds
    the messages that follow until `release`: the session sets up the executions it
    follows first, so none of their output goes past them."""

    def __init__(self, connection: HostConnection, kernel_id: str, session_id: str,
                 on_event: EventSink, attach_after: int | bool | None = False) -> None:
        self.connection = connection
        self.kernel_id = kernel_id
        self._on_event = on_event  # the host's events about this kernel
        # headers only: the host signs with the kernel's key
        self.session = Session(key=os.urandom(16), session=session_id, username="nbbridge")
        self.router = Router(kernel_id)
        self._attach_after = attach_after
        self._held: list[tuple[str, dict[str, Any]]] | None = None
        self.attached: dict[str, Any] | None = None

    async def open(self) -> None:
        if self._attach_after is not False:
            self._held = []
        self.connection.listen(self.kernel_id, self._deliver, self._on_event)
        if self._attach_after is False:
            await self.connection.request("subscribe", {"kernelId": self.kernel_id})
        else:
            self.attached = await self.connection.request(
                "attach", {"kernelId": self.kernel_id, "afterSeq": self._attach_after})
            self.router.seq = int(self.attached.get("seq") or 0)
        self._attach_after = False

    def release(self) -> None:
        """Deliver the messages held since the attach, and the later ones as they come."""
        held, self._held = self._held, None
        for channel, msg in held or []:
            self.router.deliver(channel, msg)

    async def close(self) -> None:
        self.router.clear()
        self._held = None
        if not self.connection.closed.is_set():
            with contextlib.suppress(BridgeError):
                await self.connection.request("unsubscribe", {"kernelId": self.kernel_id})

    def _deliver(self, channel: str, msg: dict[str, Any], seq: int | None) -> None:
        if seq is not None:
            msg["seq"] = seq
        if self._held is not None:
            self._held.append((channel, msg))
        else:
            self.router.deliver(channel, msg)

    def send(self, channel: str, msg_type: str, content: dict[str, Any],
             handler: RouteHandler | None = None, subshell_id: str | None = None,
             buffers: list[bytes] | None = None,
             metadata: dict[str, Any] | None = None) -> str:
        msg = as_wire(self._new_message(msg_type, content, handler, subshell_id, metadata),
                      buffers)
        msg_id: str = msg["header"]["msg_id"]
        self.connection.send_message(self.kernel_id, channel, msg)
        return msg_id



class HostLife:
    """A kernel in the kernel host. Launching asks the host to start it; with
    `attach_to`, the life is a kernel the host already runs."""

    owned = False  # it outlives this bridge
    came_back = False

    def __init__(self, connection: HostConnection, spec_name: str,
                 start: dict[str, Any] | None = None,
                 attach_to: dict[str, Any] | None = None,
                 after_seq: int | None = None) -> None:
        self.connection = connection
        self.spec_name = spec_name
        self._start = start or {}
        self._summary: dict[str, Any] = attach_to or {}
        self.kernel_id: str = str(self._summary.get("kernelId") or uuid.uuid4())
        self._attach_after: int | bool | None = after_seq if attach_to else False
        self._session_id = str(uuid.uuid4())
        self._ended: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._said = ""
        self._running = attach_to is not None and attach_to.get("state") != "dead"
        # a request another client of the host sent to this kernel
        self.on_execution: ExecutionEvent | None = None

    async def launch(self) -> None:
        if self._attach_after is not False:
            return
        self._summary = await self.connection.request(
            "start", {**self._start, "kernelId": self.kernel_id,
                      "specName": self.spec_name, "env": dict(os.environ)})
        self._running = True

    async def relaunch(self) -> None:
        self._ended = asyncio.get_running_loop().create_future()
        self._summary = await self.connection.request("relaunch", {"kernelId": self.kernel_id})
        self._running = True

    async def signal_interrupt(self) -> None:
        await self.connection.request("interrupt", {"kernelId": self.kernel_id})

    async def stop(self, now: bool) -> None:
        self._running = False
        if self.connection.closed.is_set():
            return
        with contextlib.suppress(BridgeError):
            await self.connection.request("shutdown", {"kernelId": self.kernel_id,
                                                       "now": now}, timeout=60.0)

    async def ended(self) -> str:
        return await asyncio.shield(self._ended)

    async def pair(self, notebook_uri: str | None) -> None:
        with contextlib.suppress(BridgeError):
            await self.connection.request("pair", {"kernelId": self.kernel_id,
                                                   "notebookUri": notebook_uri})

    def channels(self, on_link: LinkCallback) -> HostChannels:
        channels = HostChannels(self.connection, self.kernel_id, self._session_id,
                                self._event, self._attach_after)
        self._attach_after = False  # a restart subscribes anew
        return channels

    def _event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "ended":
            self._running = False
            self._said = str(event.get("said") or "")
            if not self._ended.done():
                self._ended.set_result(str(event.get("reason") or "the kernel died"))
        elif kind == "execution" and self.on_execution is not None:
            self.on_execution(event)

    @property
    def running(self) -> bool:
        return self._running and not self.connection.closed.is_set()

    def said(self) -> str:
        return self._said

    async def said_all(self, timeout: float) -> None:
        if self._said or self.connection.closed.is_set():
            return
        with contextlib.suppress(BridgeError):
            reply = await self.connection.request("said", {"kernelId": self.kernel_id},
                                                  timeout=timeout + 1.0)
            self._said = str(reply.get("text") or "")

    def describe(self) -> dict[str, Any]:
        return {"pid": self._summary.get("pid"),
                "connectionFile": self._summary.get("connectionFile"),
                "hostPid": self.connection.host_pid, "durable": True}

    @property
    def summary(self) -> dict[str, Any]:
        return self._summary
