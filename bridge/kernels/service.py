"""The kernel/* methods: JSON-RPC params in, KernelRegistry calls, notifications out."""

from __future__ import annotations

import asyncio
from typing import Any

from bridge.errors import BridgeError, ErrorCode, optional, require
from bridge.kernels.registry import KernelRegistry
from bridge.kernels.session import KernelSession
from bridge.kernels.specs import list_specs
from bridge.kernels.streaming import Rpc, run_streamed
from bridge.options import KernelSettings
from bridge.rpc.contract import KERNEL_STATUS


class KernelService:
    def __init__(self, rpc: Rpc, warm_pool: bool = False) -> None:
        self._rpc = rpc
        self.registry = KernelRegistry(self._send_status, warm_pool=warm_pool)

    def configure(self, settings: KernelSettings) -> None:
        """Apply the client's kernel settings (initializationOptions)."""
        if settings.warm_pool is not None:
            self.registry.warm_pool = settings.warm_pool
        if settings.start_timeout is not None:
            self.registry.start_timeout = settings.start_timeout
        if self.registry.warm_pool:
            self.registry.fill_pool()

    def _send_status(self, status: dict[str, Any]) -> None:
        self._rpc.notify(KERNEL_STATUS, status)

    async def specs(self, params: Any) -> dict[str, Any]:
        return await asyncio.to_thread(list_specs, self.registry.learned_transport)

    async def start(self, params: Any) -> dict[str, Any]:
        params = params or {}
        kernel_name = optional(params, "kernelName", str)
        notebook_uri = optional(params, "notebookUri", str)
        cwd = optional(params, "cwd", str)
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
        return await run_streamed(session, code, execution_id, rpc=self._rpc,
                                  ask_input=True, stop_on_error=stop_on_error)

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
        "transport": session.traits.transport,
        "interruptMode": session.traits.interrupt_mode,
    }
