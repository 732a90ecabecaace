"""The kernel/* methods: JSON-RPC params in, KernelRegistry calls, notifications out."""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Callable
from typing import Any

from lsprotocol import types

from bridge.errors import BridgeError, ErrorCode, optional, require
from bridge.kernels.environments import EnvironmentFinder, install_ipykernel
from bridge.kernels.host.life import HostLife
from bridge.kernels.registry import KernelRegistry
from bridge.kernels.remote.servers import JupyterServer, ServerList
from bridge.kernels.session import KernelSession
from bridge.kernels.specs import environment_kernel_name, list_specs
from bridge.kernels.streaming import (
    Rpc,
    comm_notifier,
    follow_streamed,
    run_streamed,
    send_comm_streamed,
)
from bridge.options import KernelSettings
from bridge.rpc.contract import KERNEL_ENVIRONMENTS_CHANGED, KERNEL_STATUS


class KernelService:
    def __init__(self, rpc: Rpc, warm_pool: bool = False,
                 roots: Callable[[], list[str]] = list, durable: bool = False) -> None:
        self._rpc = rpc
        self.registry = KernelRegistry(self._send_status, warm_pool=warm_pool,
                                       durable=durable, on_notice=self._notice)
        self.servers = ServerList()
        # roots: the workspace folders; environments asked after the listing's deadline
        # are announced when known
        self.environments = EnvironmentFinder(
            roots, on_change=lambda: rpc.notify(KERNEL_ENVIRONMENTS_CHANGED, {}))

    def configure(self, settings: KernelSettings) -> None:
        """Apply the client's kernel settings (initializationOptions)."""
        if settings.warm_pool is not None:
            self.registry.warm_pool = settings.warm_pool
        if settings.start_timeout is not None:
            self.registry.start_timeout = settings.start_timeout
        if settings.remote_start_timeout is not None:
            self.registry.remote_start_timeout = settings.remote_start_timeout
        if settings.durable is not None:
            self.registry.durable = settings.durable
        if settings.never_cull:
            self.registry.cull_after = None
        elif settings.cull_after is not None:
            self.registry.cull_after = settings.cull_after
        if self.registry.warm_pool:
            self.registry.fill_pool()

    def _notice(self, text: str) -> None:
        self._rpc.notify(types.WINDOW_SHOW_MESSAGE, types.ShowMessageParams(
            types.MessageType.Warning, f"nbbridge: {text}"))

    def _send_status(self, status: dict[str, Any]) -> None:
        self._rpc.notify(KERNEL_STATUS, status)

    async def specs(self, params: Any) -> dict[str, Any]:
        return await asyncio.to_thread(list_specs, self.registry.learned_transport)

    async def list_environments(self, params: Any) -> dict[str, Any]:
        found = await self.environments.list()
        return {"environments": [environment.describe() for environment in found]}

    async def install_ipykernel(self, params: Any) -> dict[str, Any]:
        python = require(params, "environment", str)
        environment = await self.environments.find(python)
        if not environment.ipykernel:
            def log(line: str) -> None:
                self._rpc.notify(types.WINDOW_LOG_MESSAGE, types.LogMessageParams(
                    types.MessageType.Log, f"pip: {line}"))

            await install_ipykernel(environment, log)
            self.environments.forget(environment.python)
            environment = await self.environments.find(python)
        return environment.describe()

    # -------------------------------------------------------------- servers
    async def add_server(self, params: Any) -> dict[str, Any]:
        server = await self.servers.add(
            require(params, "url", str), optional(params, "token", str),
            optional(params, "caFile", str), optional(params, "name", str))
        return server.describe()

    async def list_servers(self, params: Any) -> dict[str, Any]:
        await self.servers.add_from_environment()
        return {"servers": [server.describe() for server in self.servers]}

    async def remove_server(self, params: Any) -> None:
        server = await self.servers.remove(require(params, "serverId", str))
        await self.registry.forget_server(server.server_id)

    async def server_kernels(self, params: Any) -> dict[str, Any]:
        server = await self._server(require(params, "serverId", str))
        specs = await server.kernelspecs()
        paths = {str(s.get("kernel", {}).get("id")): s.get("path")
                 for s in await server.sessions()}
        return {
            "default": specs.get("default"),
            "specs": [describe_remote_spec(name, entry)
                      for name, entry in sorted((specs.get("kernelspecs") or {}).items())],
            "running": [{"id": k.get("id"), "name": k.get("name"),
                         "executionState": k.get("execution_state"),
                         "lastActivity": k.get("last_activity"),
                         "connections": k.get("connections"),
                         "path": paths.get(str(k.get("id")))}
                        for k in await server.kernels()],
        }

    async def _server(self, server_id: str) -> JupyterServer:
        await self.servers.add_from_environment()
        return self.servers.get(server_id)

    async def start(self, params: Any) -> dict[str, Any]:
        params = params or {}
        kernel_name = optional(params, "kernelName", str)
        python = optional(params, "environment", str)
        notebook_uri = optional(params, "notebookUri", str)
        cwd = optional(params, "cwd", str)
        server_id = optional(params, "serverId", str)
        remote_id = optional(params, "remoteKernelId", str)
        if server_id is not None:
            if python is not None or cwd is not None:
                raise BridgeError(ErrorCode.INVALID_PARAMS,
                                  "a server's kernel takes no 'environment' or 'cwd'")
            server = await self._server(server_id)
            session = await self.registry.start_remote(server, kernel_name, notebook_uri,
                                                       remote_id)
            return self._started(session)
        if remote_id is not None:
            raise BridgeError(ErrorCode.INVALID_PARAMS, "'remoteKernelId' needs 'serverId'")
        if python is not None:
            if kernel_name is not None:
                raise BridgeError(ErrorCode.INVALID_PARAMS,
                                  "give 'kernelName' or 'environment', not both")
            environment = await self.environments.find(python)
            if not environment.ipykernel:
                raise BridgeError(ErrorCode.KERNEL_START_FAILED,
                                  f"ipykernel is not installed in {environment.prefix}; "
                                  "install it (kernel/installIpykernel) or run "
                                  f"`{environment.python} -m pip install ipykernel`",
                                  data={"ipykernelMissing": True})
            kernel_name = environment_kernel_name(environment.python)
        session = await self.registry.start(kernel_name, notebook_uri, cwd)
        return self._started(session)

    def _started(self, session: KernelSession) -> dict[str, Any]:
        # comm messages that belong to no run of the client's
        session.comms.unrouted = comm_notifier(
            self._rpc, {"kernelId": session.kernel_id, "executionId": None})
        if isinstance(session.life, HostLife):
            # a cell another client of the kernel host runs: shown here as well
            session.life.on_execution = lambda event: self._follow(session, event)
        return describe(session)

    def _follow(self, session: KernelSession, execution: dict[str, Any]) -> None:
        msg_id = execution.get("msgId")
        if isinstance(msg_id, str):
            cell_id = execution.get("cellId")
            follow_streamed(session, msg_id, str(execution.get("executionId") or msg_id),
                            self._rpc, execution.get("pendingInput"),
                            cell_id if isinstance(cell_id, str) else None)

    async def attach(self, params: Any) -> dict[str, Any]:
        """The notebook's kernel in the kernel host and what happened since `afterSeq`."""
        notebook_uri = require(params, "notebookUri", str)
        after_seq = optional(params, "afterSeq", int)
        session, channels, attached = await self.registry.attach(notebook_uri, after_seq)
        executions = list(attached.get("executions") or [])
        if session is None:
            kernel = attached.get("kernel")
            return {"kernel": None, "executions": executions, "seq": attached.get("seq"),
                    "ended": None if kernel is None else {
                        "kernelId": kernel.get("kernelId"), "reason": kernel.get("reason"),
                        "specName": kernel.get("specName")}}
        result = self._started(session)
        if channels is not None:
            for execution in executions:
                if execution.get("status") == "running":
                    self._follow(session, execution)
            channels.release()
        return {"kernel": result, "executions": executions, "seq": attached.get("seq")}

    async def list_kernels(self, params: Any) -> dict[str, Any]:
        return {"kernels": await self.registry.list_kernels()}

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
                                  ask_input=True, stop_on_error=stop_on_error,
                                  cell_id=optional(params, "cellId", str))

    async def send_comm(self, params: Any) -> dict[str, Any]:
        session = self._live_session(params)
        msg_type = require(params, "msgType", str)
        if msg_type not in ("comm_open", "comm_msg", "comm_close"):
            raise BridgeError(ErrorCode.INVALID_PARAMS,
                              f"'msgType' must be comm_open, comm_msg or comm_close, "
                              f"not {msg_type!r}")
        content = require(params, "content", dict)
        if not isinstance(content.get("comm_id"), str):
            raise BridgeError(ErrorCode.INVALID_PARAMS, "'content.comm_id' must be a string")
        encoded = optional(params, "buffers", list) or []
        try:
            buffers = [base64.b64decode(item, validate=True) for item in encoded]
        except (TypeError, ValueError, binascii.Error) as exc:
            raise BridgeError(ErrorCode.INVALID_PARAMS,
                              f"'buffers' must be base64 strings: {exc}") from exc
        execution_id = optional(params, "executionId", str)
        client_msg_id = optional(params, "msgId", str)
        msg_id = await send_comm_streamed(session, msg_type, content, buffers,
                                          execution_id, client_msg_id, self._rpc)
        return {"msgId": msg_id}

    async def comm_info(self, params: Any) -> dict[str, Any]:
        session = self._live_session(params)
        try:
            return await session.comms.comm_info(optional(params, "targetName", str))
        except TimeoutError as exc:
            raise BridgeError(ErrorCode.KERNEL_DEAD,
                              "the kernel did not answer comm_info_request") from exc

    async def widget_state(self, params: Any) -> dict[str, Any]:
        return self._session(params).comms.widget_state()

    def _live_session(self, params: Any) -> KernelSession:
        session = self._session(params)
        if session.state == "dead" or session.channels is None:
            raise BridgeError(ErrorCode.KERNEL_DEAD,
                              "the kernel is dead; restart it with kernel/restart")
        return session

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
        await self.servers.close()


def describe_remote_spec(name: str, entry: dict[str, Any]) -> dict[str, Any]:
    spec = entry.get("spec") or {}
    return {"name": name, "displayName": spec.get("display_name", name),
            "language": spec.get("language", ""),
            "interruptMode": spec.get("interrupt_mode", "signal")}


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
        **session.life.describe(),
        "transport": session.traits.transport,
        "interruptMode": session.traits.interrupt_mode,
    }
