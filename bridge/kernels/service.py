"""The kernel/* methods: JSON-RPC params in, KernelRegistry calls, notifications out."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from lsprotocol.types import CANCEL_REQUEST, CancelParams

from bridge.errors import BridgeError, ErrorCode, require
from bridge.kernels.batching import OutputBatcher
from bridge.kernels.registry import KernelRegistry
from bridge.kernels.session import KernelSession
from bridge.kernels.specs import list_specs
from bridge.rpc.contract import KERNEL_INPUT, KERNEL_OUTPUT, KERNEL_STATUS


class Rpc(Protocol):
    """What the service needs of the server's protocol object."""

    def notify(self, method: str, params: Any | None = None) -> None: ...

    def send_request_async(self, method: str, params: Any | None = None,
                           msg_id: str | None = None) -> Any: ...


def _optional(params: dict[str, Any], name: str, kind: type) -> Any:
    return require(params, name, kind) if params.get(name) is not None else None


class KernelService:
    def __init__(self, rpc: Callable[[], Rpc], warm_pool: bool = False) -> None:
        self._rpc = rpc
        self.registry = KernelRegistry(self._send_status, warm_pool=warm_pool)

    def configure(self, initialization_options: Any) -> None:
        """initializationOptions of initialize: {"warmPool": bool} turns the warm pool on;
        {"kernelStartTimeout": seconds} bounds how long a kernel may take to answer."""
        if isinstance(initialization_options, dict) and "warmPool" in initialization_options:
            self.registry.warm_pool = bool(initialization_options["warmPool"])
        timeout = (initialization_options or {}).get("kernelStartTimeout") if isinstance(
            initialization_options, dict) else None
        if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0:
            self.registry.start_timeout = float(timeout)
        if self.registry.warm_pool:
            self.registry.fill_pool()

    def _send_status(self, status: dict[str, Any]) -> None:
        self._rpc().notify(KERNEL_STATUS, status)

    async def specs(self, params: Any) -> dict[str, Any]:
        return await asyncio.to_thread(list_specs)

    async def start(self, params: Any) -> dict[str, Any]:
        params = params or {}
        kernel_name = _optional(params, "kernelName", str)
        notebook_uri = _optional(params, "notebookUri", str)
        cwd = _optional(params, "cwd", str)
        session = await self.registry.start(kernel_name, notebook_uri, cwd)
        return describe(session)

    def _session(self, params: Any) -> KernelSession:
        return self.registry.get(require(params, "kernelId", str))

    async def execute(self, params: Any) -> dict[str, Any]:
        session = self._session(params)
        code = require(params, "code", str)
        execution_id = require(params, "executionId", str)
        stop_on_error = params.get("stopOnError", True)
        if not isinstance(stop_on_error, bool):
            raise BridgeError(ErrorCode.INVALID_PARAMS, "parameter 'stopOnError' must be bool")
        if session.state == "dead":
            raise BridgeError(ErrorCode.KERNEL_DEAD,
                              "the kernel is dead; restart it with kernel/restart")
        rpc = self._rpc()
        head = {"kernelId": session.kernel_id, "executionId": execution_id}
        batcher = OutputBatcher(lambda ops: rpc.notify(KERNEL_OUTPUT, {**head, "ops": ops}))

        async def ask_input(prompt: str, password: bool) -> str:
            batcher.flush()  # the prompt's own output must be on screen first
            request_id = f"input-{uuid.uuid4()}"
            try:
                reply = await rpc.send_request_async(
                    KERNEL_INPUT, {**head, "prompt": prompt, "password": password},
                    msg_id=request_id)
            except asyncio.CancelledError:
                # the cell stopped waiting (interrupt, restart, death): close the prompt
                rpc.notify(CANCEL_REQUEST, CancelParams(id=request_id))
                raise
            value = reply.get("value") if isinstance(reply, dict) else None
            if not isinstance(value, str):
                raise ValueError("kernel/input result has no string 'value'")
            return value

        try:
            return await session.execute(code, execution_id, batcher.add, ask_input,
                                         stop_on_error)
        finally:
            batcher.close()  # every output notification goes out before the response

    async def interrupt(self, params: Any) -> None:
        await self._session(params).interrupt()

    async def restart(self, params: Any) -> dict[str, Any]:
        session = self._session(params)
        await session.restart()
        return describe(session)

    async def shutdown(self, params: Any) -> None:
        await self.registry.shutdown(require(params, "kernelId", str))

    async def shutdown_all(self) -> None:
        await self.registry.shutdown_all()


def describe(session: KernelSession) -> dict[str, Any]:
    """The kernel/start and kernel/restart result."""
    info = session.kernel_info
    return {
        "kernelId": session.kernel_id,
        "specName": session.spec_name,
        "notebookUri": session.notebook_uri,
        "languageInfo": session.language_info,
        "implementation": info.get("implementation"),
        "protocolVersion": info.get("protocol_version"),
        "banner": info.get("banner", ""),
        "supportedFeatures": info.get("supported_features", []),
        "state": session.state,
        "pid": session.pid,
        "connectionFile": session.manager.connection_file,
    }
