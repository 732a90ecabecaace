"""ZmqChannels on real sockets: one reader per channel, routing by parent msg_id, and no
message that stops a reader."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import zmq
from jupyter_client.session import Session

from bridge.kernels.zmq_channels import ZmqChannels


async def test_a_message_without_parent_does_not_stop_the_iopub_reader(tmp_path: Path) -> None:
    session = Session(key=b"secret")
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context.instance()
    base = str(tmp_path / "k")
    sockets = {"shell": context.socket(zmq.ROUTER), "iopub": context.socket(zmq.PUB),
               "stdin": context.socket(zmq.ROUTER), "control": context.socket(zmq.ROUTER)}
    info: dict[str, Any] = {"transport": "ipc", "ip": base}
    for port, (name, socket) in enumerate(sockets.items(), start=1):
        socket.bind(f"ipc://{base}-{port}")
        info[f"{name}_port"] = port
    channels = ZmqChannels(session, info)
    got: list[tuple[str, str]] = []
    arrived = asyncio.Event()

    def handler(channel: str, msg: dict[str, Any]) -> None:
        got.append((channel, msg["content"]["text"]))
        arrived.set()

    await channels.open()
    try:
        msg_id = channels.send("shell", "execute_request", {"code": "1"}, handler)
        assert await asyncio.to_thread(sockets["shell"].poll, 5000)  # it reached the kernel
        parent = {"msg_id": msg_id, "msg_type": "execute_request"}
        for _ in range(200):  # PUB drops what it sends before the subscription is in
            welcome = session.msg("iopub_welcome", {"text": "welcome"})
            welcome["parent_header"] = None  # as xeus and newer ZMQ kernels send it
            session.send(sockets["iopub"], welcome)
            if await channels.iopub_delivered(0.02):
                break
        session.send(sockets["iopub"], "stream", {"name": "stdout", "text": "after"},
                     parent=parent)
        await asyncio.wait_for(arrived.wait(), 5)
        assert got == [("iopub", "after")]
        channels.forget(msg_id)
        session.send(sockets["iopub"], "stream", {"name": "stdout", "text": "unrouted"},
                     parent=parent)
        await asyncio.sleep(0.2)
        assert got == [("iopub", "after")]  # forgotten: no longer routed to it
    finally:
        await channels.close()
        for socket in sockets.values():
            socket.close(linger=0)
