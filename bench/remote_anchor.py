"""The anchors for remote kernels: a real jupyter_server on 127.0.0.1 and a raw asyncio
websocket client of its kernel channels (aiohttp, v1 subprotocol), plain or tuned with
TCP_QUICKACK re-armed after every send and receive, as a careful client would be."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bridge.kernels.wire import V1_PROTOCOL, decode_v1, encode_v1

QUICKACK = getattr(socket, "TCP_QUICKACK", None)


@asynccontextmanager
async def jupyter_server(*extra: str) -> AsyncIterator[tuple[str, str]]:
    """A fresh jupyter_server (URL, token), stopped with its kernels afterwards."""
    runtime = Path(tempfile.mkdtemp(prefix="bench-js-"))
    token = secrets.token_hex(16)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", "--ServerApp.port=0", f"--IdentityProvider.token={token}",
        "--ServerApp.log_level=ERROR", f"--ServerApp.root_dir={runtime}", *extra,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "JUPYTER_RUNTIME_DIR": str(runtime)},
        start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not (info := await asyncio.to_thread(_server_info, runtime)):
            if time.monotonic() > deadline or process.returncode is not None:
                raise RuntimeError("jupyter_server did not start")
            await asyncio.sleep(0.1)
        yield str(info["url"]), token
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        await process.wait()


def _server_info(runtime: Path) -> dict[str, Any] | None:
    for path in runtime.glob("jpserver-*.json"):
        try:
            info: dict[str, Any] = json.loads(path.read_text())
        except ValueError:
            return None  # still being written
        return info
    return None


class RawKernel:
    """One kernel on the server through a raw websocket client."""

    def __init__(self, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse,
                 tuned: bool) -> None:
        self.http, self.ws, self.tuned = http, ws, tuned

    @classmethod
    @asynccontextmanager
    async def open(cls, url: str, token: str, tuned: bool) -> AsyncIterator[RawKernel]:
        headers = {"Authorization": f"token {token}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            async with http.post(url + "api/kernels", json={"name": "python3"}) as response:
                kernel_id = (await response.json())["id"]
            ws = await http.ws_connect(
                f"{url.replace('http', 'ws', 1)}api/kernels/{kernel_id}/channels"
                f"?session_id={uuid.uuid4().hex}", protocols=(V1_PROTOCOL,), max_msg_size=0)
            kernel = cls(http, ws, tuned)
            try:
                await kernel.execute("pass")  # ready behind the server
                yield kernel
            finally:
                await ws.close()
                async with http.delete(url + f"api/kernels/{kernel_id}"):
                    pass

    def _quickack(self) -> None:
        if self.tuned and QUICKACK is not None:
            sock = self.ws.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)

    async def execute(self, code: str) -> list[dict[str, Any]]:
        """Run `code`; the iopub messages of the run, until its reply and idle."""
        msg_id = uuid.uuid4().hex
        header = {"msg_id": msg_id, "username": "bench", "session": "bench",
                  "msg_type": "execute_request", "version": "5.3", "date": ""}
        await self.ws.send_bytes(encode_v1("shell", {
            "header": header, "parent_header": {}, "metadata": {},
            "content": {"code": code, "silent": False, "store_history": True,
                        "user_expressions": {}, "allow_stdin": False,
                        "stop_on_error": True}}))
        self._quickack()
        seen: list[dict[str, Any]] = []
        replied = idle = False
        while not (replied and idle):
            frame = await self.ws.receive()
            self._quickack()
            if frame.type != aiohttp.WSMsgType.BINARY:
                raise ConnectionError(f"the kernel websocket said {frame.type}")
            channel, msg = decode_v1(frame.data)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if channel == "iopub":
                seen.append(msg)
            replied = replied or msg["msg_type"] == "execute_reply"
            idle = idle or (msg["msg_type"] == "status"
                            and msg["content"]["execution_state"] == "idle")
        return seen
