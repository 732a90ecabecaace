"""`KernelChannels` over a Jupyter Server's kernel websocket (aiohttp).

One websocket carries all four channels; one reader task reads it. The client session id
stays the same across reconnects, so the server buffers what the kernel sends while the
socket is down and replays it when it comes back; replayed duplicates are dropped by
msg_id. jupyter_server never sets TCP_NODELAY on its side, so every reply waits on this
side's delayed ACK unless TCP_QUICKACK is re-armed after each receive (Linux).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import socket
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

import aiohttp
from jupyter_client.session import Session

from bridge.kernels.channels import RoutedChannels, RouteHandler, Router
from bridge.kernels.remote.servers import JupyterServer
from bridge.kernels.wire import (
    V1_PROTOCOL,
    as_wire,
    decode_legacy,
    decode_v1,
    encode_legacy,
    encode_v1,
)

logger = logging.getLogger(__name__)

LinkCallback = Callable[[str], None]
"""Gets "disconnected", "reconnecting", "connected" or "gone" (the kernel is no more)."""
ServerStatusCallback = Callable[[str], None]
"""Gets the server's own kernel states: "restarting" (it restarted a dead kernel), "dead"."""

SEEN_MESSAGES = 20_000
HEARTBEAT_SECONDS = 10.0
CONNECT_TIMEOUT = 30.0
BACKOFF_FIRST = 0.25
BACKOFF_MAX = 8.0
GIVE_UP_AFTER = 600.0
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


class WebsocketChannels(RoutedChannels):
    """The channels of one kernel on a Jupyter Server."""

    def __init__(self, server: JupyterServer, remote_id: str, client_session: str,
                 on_link: LinkCallback, on_server_status: ServerStatusCallback,
                 label: str = "") -> None:
        self.server = server
        self.remote_id = remote_id
        self.client_session = client_session  # the server's replay buffer is keyed by it
        self.on_link = on_link
        self.on_server_status = on_server_status
        self.router = Router(label or remote_id)
        # builds headers only: the server signs what it passes to the kernel
        self.session = Session(session=client_session, username="nbbridge",
                               key=secrets.token_hex(16).encode())
        self.protocol: str | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._outbox: deque[str | bytes] = deque()  # in order; kept while the socket is down
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._closing = False

    # ------------------------------------------------------------ connection
    async def open(self) -> None:
        self._closing = False
        self._ws = await self._connect()
        self._reader = asyncio.create_task(self._read())
        self._writer = asyncio.create_task(self._write_all())

    async def _connect(self) -> aiohttp.ClientWebSocketResponse:
        url = self.server.address.url(f"api/kernels/{self.remote_id}/channels",
                                      {"session_id": self.client_session}, websocket=True)
        ws = await self.server.http().ws_connect(
            url, protocols=(V1_PROTOCOL,), heartbeat=HEARTBEAT_SECONDS, max_msg_size=0,
            timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=5.0),
            autoping=True)
        self.protocol = ws.protocol
        self._quickack(ws)
        self._wake.set()  # what was sent while the socket was down goes now
        return ws

    async def close(self) -> None:
        self._closing = True
        for task in (self._reader, self._writer):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._reader = self._writer = None
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        self.router.clear()
        self._outbox.clear()

    async def _read(self) -> None:
        """The one reader; when the socket drops, reconnect until the kernel is back
        or gone."""
        while not self._closing:
            ws = self._ws
            if ws is not None:
                await self._read_until_closed(ws)
            if self._closing:
                return
            self._ws = None
            self.on_link("disconnected")
            ws = await self._reconnect()
            if ws is None:
                return
            self._ws = ws
            self.on_link("connected")

    async def _read_until_closed(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while True:
            try:
                frame = await ws.receive()
            except (aiohttp.ClientError, OSError, RuntimeError):
                return
            self._quickack(ws)
            if frame.type == aiohttp.WSMsgType.BINARY:
                self._deliver(frame.data)
            elif frame.type == aiohttp.WSMsgType.TEXT:
                self._deliver(frame.data)
            elif frame.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING,
                                aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                return

    async def _reconnect(self) -> aiohttp.ClientWebSocketResponse | None:
        """Back off with jitter; between tries ask the REST API whether the kernel is
        still there, which tells "dead" from "disconnected"."""
        delay = BACKOFF_FIRST
        deadline = time.monotonic() + GIVE_UP_AFTER
        while not self._closing:
            self.on_link("reconnecting")
            try:
                exists = await self.server.kernel(self.remote_id) is not None
            except Exception:
                exists = True  # the server itself is away: keep trying
            else:
                if not exists:
                    self.on_link("gone")
                    return None
                try:
                    return await asyncio.wait_for(self._connect(), CONNECT_TIMEOUT)
                except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                    logger.info("kernel %s: reconnect failed: %s", self.remote_id, exc)
            if time.monotonic() > deadline:
                self.on_link("gone")
                return None
            await asyncio.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, BACKOFF_MAX)
        return None

    def _quickack(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        if _QUICKACK is None:
            return
        sock = ws.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)

    # -------------------------------------------------------------- messages
    def _deliver(self, frame: str | bytes) -> None:
        try:
            if isinstance(frame, bytes) and self.protocol == V1_PROTOCOL:
                channel, msg = decode_v1(frame)
            else:
                channel, msg = decode_legacy(frame)
        except Exception:
            logger.exception("kernel %s: unreadable websocket message", self.remote_id)
            return
        msg_id = msg["msg_id"] or ""
        if msg_id in self._seen:
            return  # replayed after a reconnect, and already delivered
        self._seen[msg_id] = None
        if len(self._seen) > SEEN_MESSAGES:
            self._seen.popitem(last=False)
        if (channel == "iopub" and msg["msg_type"] == "status" and not msg["parent_header"]
                and msg["content"].get("execution_state") in ("restarting", "dead")):
            # the server's word on the kernel: it died (and is restarted), or is gone
            self.on_server_status(msg["content"]["execution_state"])
        if msg["msg_type"] == "stream" and "IOPub data rate exceeded" in str(
                msg["content"].get("text", "")):
            logger.warning("kernel %s: the server dropped output over its IOPub rate limit",
                           self.remote_id)
        self.router.deliver(channel, msg)

    def send(self, channel: str, msg_type: str, content: dict[str, Any],
             handler: RouteHandler | None = None, subshell_id: str | None = None,
             buffers: list[bytes] | None = None,
             metadata: dict[str, Any] | None = None) -> str:
        msg = as_wire(self._new_message(msg_type, content, handler, subshell_id, metadata),
                      buffers)
        msg_id: str = msg["header"]["msg_id"]
        frame = (encode_v1(channel, msg) if self.protocol == V1_PROTOCOL
                 else encode_legacy(channel, msg))
        self._outbox.append(frame)
        self._wake.set()
        return msg_id

    async def _write_all(self) -> None:
        """The one writer: frames in the order sent; one that fails stays first in line
        until the socket is back."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._outbox:
                ws = self._ws
                if ws is None or ws.closed:
                    break
                frame = self._outbox[0]
                try:
                    if isinstance(frame, bytes):
                        await ws.send_bytes(frame)
                    else:
                        await ws.send_str(frame)
                except (aiohttp.ClientError, ConnectionError, RuntimeError):
                    break
                self._outbox.popleft()
                self._quickack(ws)



def new_client_session() -> str:
    return uuid.uuid4().hex
