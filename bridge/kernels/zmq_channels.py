"""A kernel's channels over ZMQ sockets, from its connection info.

One socket per channel, read by a callback on the socket's FD (cheaper than zmq.asyncio's
future per message); every message is routed by its parent msg_id.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Mapping
from typing import Any

import orjson
import zmq
from jupyter_client.session import Session

from bridge.kernels.channels import RoutedChannels, RouteHandler, Router

logger = logging.getLogger(__name__)

# ZMQ retries a connect to a not yet bound ipc socket every reconnect_ivl; its default
# would add up to that much to every kernel start.
RECONNECT_MS = 10
MAX_BURST = 256
_CHANNELS = {"shell": zmq.DEALER, "iopub": zmq.SUB, "stdin": zmq.DEALER, "control": zmq.DEALER}


def decode(session: Session, parts: list[bytes]) -> dict[str, Any]:
    """A signed Jupyter message -> dict, like Session.deserialize but without its costs:
    the signature is checked the same way, the JSON parsed with orjson, and dates stay
    ISO strings (Session.deserialize parses every header date with dateutil)."""
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


def channel_url(info: Mapping[str, Any], channel: str) -> str:
    port = info[f"{channel}_port"]
    if info["transport"] == "ipc":
        return f"ipc://{info['ip']}-{port}"
    return f"{info['transport']}://{info['ip']}:{port}"


class ZmqChannels(RoutedChannels):
    """The `KernelChannels` of a kernel reached through its connection info."""

    def __init__(self, session: Session, connection_info: Mapping[str, Any],
                 curve_keys: tuple[bytes, bytes] | None = None, label: str = "") -> None:
        self.session = session
        self.connection_info = connection_info
        self.curve_keys = curve_keys  # (secret, public) when the kernel uses CurveZMQ
        self.label = label  # names the kernel in the log
        self._sockets: dict[str, zmq.Socket[bytes]] = {}
        self.router = Router(label)

    async def open(self) -> None:
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
            if self.curve_keys is not None:
                secret, public = self.curve_keys
                socket.curve_secretkey = secret
                socket.curve_publickey = public
                socket.curve_serverkey = public
            socket.connect(channel_url(self.connection_info, channel))
            self._sockets[channel] = socket
            loop.add_reader(socket.FD, self._drain, channel)
            loop.call_soon(self._drain, channel)

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        for socket in self._sockets.values():
            loop.remove_reader(socket.FD)
            socket.close(linger=0)
        self._sockets.clear()
        self.router.clear()

    def _drain(self, channel: str) -> None:
        """The one reader of a channel. ZMQ's FD is edge-triggered: read until nothing is
        left, and after a burst of MAX_BURST messages let the loop breathe and come back."""
        socket = self._sockets.get(channel)
        if socket is None:
            return
        for _ in range(MAX_BURST):
            try:
                parts = socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            except zmq.ZMQError:
                logger.exception("kernel %s: %s socket failed", self.label, channel)
                return
            self._route(channel, parts)
        asyncio.get_running_loop().call_soon(self._drain, channel)

    def _route(self, channel: str, parts: list[bytes]) -> None:
        try:
            msg = decode(self.session, parts)
        except Exception:
            logger.exception("kernel %s: unreadable %s message", self.label, channel)
            return
        self.router.deliver(channel, msg)

    def send(self, channel: str, msg_type: str, content: dict[str, Any],
             handler: RouteHandler | None = None, subshell_id: str | None = None,
             buffers: list[bytes] | None = None,
             metadata: dict[str, Any] | None = None) -> str:
        msg = self._new_message(msg_type, content, handler, subshell_id, metadata)
        msg_id: str = msg["header"]["msg_id"]
        frames: list[bytes | memoryview[bytes]] | None = list(buffers) if buffers else None
        self.session.send(self._sockets[channel], msg, buffers=frames)
        # a send can swallow the FD's wake-up for a reply that is already in
        asyncio.get_running_loop().call_soon(self._drain, channel)
        return msg_id

    def send_message(self, channel: str, msg: dict[str, Any]) -> None:
        """Send a message someone else built (the kernel host relays its clients'),
        signed here: the key never leaves this process."""
        buffers = msg.get("buffers") or None
        self.session.send(self._sockets[channel], msg, buffers=buffers)
        asyncio.get_running_loop().call_soon(self._drain, channel)

