"""The seam between a kernel's life and its messages: the channels interface.

A `KernelChannels` is the only thing that talks to a kernel's shell, iopub, stdin and
control channels. It has exactly one reader per channel and routes every message by its
parent msg_id to the handler given when the request was sent (a second reader on a
channel would steal messages). `ZmqChannels` (bridge.kernels.zmq_channels) is its
implementation for kernels reached through a connection file, `WebsocketChannels`
(bridge.kernels.remote.websocket_channels) for kernels on a Jupyter Server; both route
through one `Router`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from jupyter_client.session import Session

logger = logging.getLogger(__name__)

RETIRED_REQUESTS = 64

RouteHandler = Callable[[str, dict[str, Any]], None]
"""Gets (channel, message) for every message parented to one request."""


class KernelChannels(Protocol):
    """A kernel's four channels, with messages as dicts: header, msg_id, msg_type,
    parent_header, metadata, content, buffers."""

    @property
    def seq(self) -> int:
        """The number of the message being handled, or of the last one."""
        ...

    async def open(self) -> None:
        """Connect; messages start flowing to the handlers."""
        ...

    async def close(self) -> None:
        """Disconnect and forget every route; `open` may be called again."""
        ...

    def send(self, channel: str, msg_type: str, content: dict[str, Any],
             handler: RouteHandler | None = None, subshell_id: str | None = None,
             buffers: list[bytes] | None = None,
             metadata: dict[str, Any] | None = None) -> str:
        """Send one message (with binary `buffers`, as comm messages carry them);
        `handler` gets every message parented to it. Returns its msg_id."""
        ...

    def follow(self, msg_id: str, handler: RouteHandler) -> None:
        """Route the messages parented to `msg_id`, a request sent by someone else
        (another client of the kernel host), to `handler`."""
        ...

    def set_fallback(self, handler: RouteHandler | None) -> None:
        """Messages whose parent is routed to nobody go here (comm traffic a kernel sends
        on its own, or in answer to a message sent without a handler); None drops them."""
        ...

    def forget(self, msg_id: str) -> None:
        """Route nothing more to the handler of `msg_id`."""
        ...

    def retire(self, msg_id: str) -> None:
        """Keep routing a finished request's late output to its handler for a while
        (output from threads or timers a cell started), then forget it."""
        ...

    async def iopub_delivered(self, timeout: float) -> bool:
        """Whether any iopub message has arrived since `open`, waiting up to `timeout`
        seconds: a kernel is ready only once iopub delivers (no late-joiner loss)."""
        ...


async def request(channels: KernelChannels, channel: str, msg_type: str,
                  content: dict[str, Any], timeout: float,
                  subshell_id: str | None = None) -> dict[str, Any]:
    """Send a request and return its reply on the same channel (raises TimeoutError)."""
    reply: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    def on_message(got_channel: str, msg: dict[str, Any]) -> None:
        if got_channel == channel and not reply.done():
            reply.set_result(msg)

    msg_id = channels.send(channel, msg_type, content, on_message, subshell_id)
    try:
        return await asyncio.wait_for(reply, timeout)
    finally:
        channels.forget(msg_id)


class Router:
    """The routing half of a `KernelChannels`: messages to the handler of their parent
    request, finished requests kept routed for a while, and whether iopub has spoken."""

    def __init__(self, label: str) -> None:
        self.label = label  # names the kernel in the log
        self._routes: dict[str, RouteHandler] = {}
        self._retired: OrderedDict[str, None] = OrderedDict()
        self._iopub_seen = asyncio.Event()
        self.fallback: RouteHandler | None = None  # messages routed to nobody
        # the number of the message being handled: the kernel host's, else counted here
        self.seq = 0

    def add(self, msg_id: str, handler: RouteHandler) -> None:
        self._routes[msg_id] = handler

    def deliver(self, channel: str, msg: dict[str, Any]) -> None:
        seq = msg.get("seq")
        self.seq = seq if isinstance(seq, int) else self.seq + 1
        if channel == "iopub":
            self._iopub_seen.set()
        parent = msg["parent_header"] or {}  # a kernel's iopub_welcome has none
        handler = self._routes.get(parent.get("msg_id", "")) or self.fallback
        if handler is not None:
            try:
                handler(channel, msg)
            except Exception:
                logger.exception("kernel %s: handling %s failed", self.label,
                                 msg["header"].get("msg_type"))

    def forget(self, msg_id: str) -> None:
        self._routes.pop(msg_id, None)

    def retire(self, msg_id: str) -> None:
        self._retired[msg_id] = None
        while len(self._retired) > RETIRED_REQUESTS:
            self.forget(self._retired.popitem(last=False)[0])

    def clear(self) -> None:
        self.fallback = None
        self._routes.clear()
        self._retired.clear()
        self._iopub_seen.clear()

    async def iopub_delivered(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._iopub_seen.wait(), timeout)
        except TimeoutError:
            return False
        return True


class RoutedChannels:
    """What every `KernelChannels` does through its `router` (set by the subclass)."""

    router: Router
    session: Session  # builds this client's messages (msg_id, header, its session id)

    def _new_message(self, msg_type: str, content: dict[str, Any],
                     handler: RouteHandler | None, subshell_id: str | None,
                     metadata: dict[str, Any] | None) -> dict[str, Any]:
        """A message of this client's session, its replies routed to `handler`."""
        msg: dict[str, Any] = self.session.msg(msg_type, content, metadata=metadata)
        if subshell_id is not None:
            msg["header"]["subshell_id"] = subshell_id
        if handler is not None:
            self.router.add(msg["header"]["msg_id"], handler)
        return msg

    @property
    def seq(self) -> int:
        return self.router.seq

    def set_fallback(self, handler: RouteHandler | None) -> None:
        self.router.fallback = handler

    def follow(self, msg_id: str, handler: RouteHandler) -> None:
        self.router.add(msg_id, handler)

    def forget(self, msg_id: str) -> None:
        self.router.forget(msg_id)

    def retire(self, msg_id: str) -> None:
        self.router.retire(msg_id)

    async def iopub_delivered(self, timeout: float) -> bool:
        return await self.router.iopub_delivered(timeout)
