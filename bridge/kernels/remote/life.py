"""The life of a kernel on a Jupyter Server: started (through /api/sessions where the
server has sessions, so its own UI shows the notebook), restarted, interrupted and shut
down over REST; its end told by the server (a restart after a death, a kernel gone).
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import uuid
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote, unquote, urlparse

from bridge.errors import BridgeError, ErrorCode
from bridge.kernels.channels import KernelChannels
from bridge.kernels.life import LinkCallback
from bridge.kernels.remote.servers import JupyterServer
from bridge.kernels.remote.websocket_channels import WebsocketChannels, new_client_session

logger = logging.getLogger(__name__)

STOP_TIMEOUT = 30.0
PROBE_SECONDS = 5.0


def session_path(notebook_uri: str | None) -> str:
    """The path the server's sessions list shows for a notebook: its file name."""
    if not notebook_uri:
        return f"nbbridge-{uuid.uuid4().hex[:8]}.ipynb"
    return PurePosixPath(unquote(urlparse(notebook_uri).path)).name or notebook_uri


class RemoteLife:
    """One kernel on a server: started by the bridge, or an existing one attached."""

    owned = False  # the bridge's exit leaves it running on its server

    def __init__(self, server: JupyterServer, spec_name: str, notebook_uri: str | None,
                 remote_id: str | None = None,
                 start_timeout: float = 120.0) -> None:
        self.server = server
        self.kernel_id = str(uuid.uuid4())
        self.spec_name = spec_name
        self.notebook_uri = notebook_uri
        self.remote_id = remote_id
        self.start_timeout = start_timeout
        self.client_session = new_client_session()
        self.server_session: str | None = None
        self.came_back = False
        self._channels: WebsocketChannels | None = None
        self._gone = False
        self._restarting = False
        self._end: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    # ------------------------------------------------------------- life
    async def launch(self) -> None:
        if self.remote_id is not None:
            model = await self.server.kernel(self.remote_id)
            if model is None:
                raise BridgeError(ErrorCode.UNKNOWN_KERNEL,
                                  f"{self.server.address.display} has no kernel "
                                  f"{self.remote_id!r}")
            self.spec_name = str(model.get("name") or self.spec_name)
            return
        # Enterprise Gateway reads the launch timeout and the user from the request's env
        env = {"KERNEL_LAUNCH_TIMEOUT": str(int(self.start_timeout)),
               "KERNEL_USERNAME": getpass.getuser()}
        if self.server.has_sessions:
            _, model = await self.server.call("POST", "api/sessions", {
                "path": session_path(self.notebook_uri), "type": "notebook",
                "name": session_path(self.notebook_uri),
                "kernel": {"name": self.spec_name, "env": env}}, timeout=self.start_timeout)
            self.server_session = str(model["id"])
            self.remote_id = str(model["kernel"]["id"])
        else:
            _, model = await self.server.call("POST", "api/kernels", {
                "name": self.spec_name, "env": env}, timeout=self.start_timeout)
            self.remote_id = str(model["id"])
        logger.info("kernel %s is %s on %s", self.kernel_id, self.remote_id,
                    self.server.address.display)

    async def relaunch(self) -> None:
        self._renew()
        self._restarting = True
        try:
            await self.server.call("POST", f"api/kernels/{self._remote()}/restart",
                                   timeout=self.start_timeout)
        finally:
            self._restarting = False

    async def signal_interrupt(self) -> None:
        await self.server.call("POST", f"api/kernels/{self._remote()}/interrupt")

    async def stop(self, now: bool) -> None:
        """Shut the kernel down on its server (a kernel/shutdown, or a failed start)."""
        if self.remote_id is None or self._gone:
            return
        self._gone = True
        with contextlib.suppress(BridgeError):
            if self.server_session is not None:
                await self.server.call("DELETE", f"api/sessions/{self.server_session}",
                                       timeout=STOP_TIMEOUT, allow=(404,))
            await self.server.call("DELETE", f"api/kernels/{self._remote()}",
                                   timeout=STOP_TIMEOUT, allow=(404,))

    async def ended(self) -> str:
        # a kernel shut down by another client leaves the websocket open and silent:
        # the REST API is asked now and then whether it is still there
        while True:
            end = self._end
            try:
                return await asyncio.wait_for(asyncio.shield(end), PROBE_SECONDS)
            except TimeoutError:
                pass
            try:
                model = await self.server.kernel(self._remote())
            except BridgeError:
                continue  # the server is away: the websocket's reconnect tells
            if model is None and end is self._end:
                self._gone = True
                self._finish(self._gone_reason(), came_back=False)

    def channels(self, on_link: LinkCallback) -> KernelChannels:
        def link(state: str) -> None:
            if state == "gone":
                self._gone = True
                self._finish(self._gone_reason(), came_back=False)
            else:
                on_link(state)

        def server_status(state: str) -> None:
            if state == "restarting" and not self._restarting:
                self._finish("the kernel died and was restarted by the server",
                             came_back=True)
            elif state == "dead":
                self._gone = True
                self._finish("the server says the kernel is dead", came_back=False)

        self._renew()
        self._channels = WebsocketChannels(self.server, self._remote(), self.client_session,
                                           on_link=link, on_server_status=server_status,
                                           label=self.kernel_id)
        return self._channels

    @property
    def running(self) -> bool:
        return self.remote_id is not None and not self._gone

    def said(self) -> str:
        return ""  # what a remote kernel prints outside its channels stays on its server

    async def said_all(self, timeout: float) -> None:
        return None

    def describe(self) -> dict[str, Any]:
        return {"pid": None, "connectionFile": None, "serverId": self.server.server_id,
                "serverUrl": self.server.address.display, "remoteKernelId": self.remote_id,
                "serverSessionId": self.server_session,
                # the framing the server chose: v1.kernel.websocket.jupyter.org or legacy
                "websocketProtocol": (self._channels.protocol or "legacy")
                if self._channels is not None else None}

    # ------------------------------------------------------------ helpers
    def _remote(self) -> str:
        if self.remote_id is None:
            raise BridgeError(ErrorCode.KERNEL_DEAD, "the kernel has not started")
        return quote(self.remote_id)

    def _gone_reason(self) -> str:
        return f"the kernel is gone from its server ({self.server.address.display})"

    def _renew(self) -> None:
        """A new incarnation: its end is still to come."""
        if self._end.done():
            self._end = asyncio.get_running_loop().create_future()
        self.came_back = False

    def _finish(self, reason: str, came_back: bool) -> None:
        if not self._end.done():
            self.came_back = came_back
            self._end.set_result(reason)
