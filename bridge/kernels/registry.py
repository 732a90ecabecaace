"""Every kernel the bridge runs: start (optionally from a warm pool), look up, shut down.

Kernels talk over IPC sockets in a private runtime directory (mode 0700, connection files
0600), where they take them; the others (bridge.kernels.traits) on loopback TCP, HMAC
signed and CurveZMQ-encrypted where the kernel supports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from jupyter_client.kernelspec import NATIVE_KERNEL_NAME, KernelSpec, NoSuchKernel

from bridge.errors import BridgeError, ErrorCode
from bridge.kernels.host.client import HostConnection
from bridge.kernels.host.life import HostChannels, HostLife
from bridge.kernels.life import KernelLife, LocalLife, new_kernel_manager
from bridge.kernels.reaper import Reaper
from bridge.kernels.remote.servers import JupyterServer
from bridge.kernels.session import READY_TIMEOUT, KernelSession
from bridge.kernels.specs import spec_manager, spec_python
from bridge.kernels.traits import KernelTraits, Transport, traits_of

logger = logging.getLogger(__name__)

POOL_REFILL_DELAY = 1.0
REMOTE_START_TIMEOUT = 120.0  # a gateway's kernel on a cluster takes tens of seconds
CULL_AFTER = 86400.0  # a detached idle kernel in the kernel host: a day


def short_private_dir() -> str:
    """A new 0700 folder with a path short enough for IPC endpoints (see traits.IPC_IP_LIMIT):
    under /tmp itself where it is writable, whatever TMPDIR says."""
    base = "/tmp" if os.access("/tmp", os.W_OK | os.X_OK) else None
    return tempfile.mkdtemp(prefix="nb-", dir=base)


def notebook_folder(notebook_uri: str | None) -> str | None:
    """The folder of a file: URI (a kernel's default cwd); None for other schemes."""
    if not notebook_uri:
        return None
    parsed = urlparse(notebook_uri)
    if parsed.scheme != "file":
        return None
    folder = Path(unquote(parsed.path)).parent
    return str(folder) if folder.is_dir() else None


class KernelRegistry:
    """The running kernels of one bridge, by kernelId and by notebook."""

    def __init__(self, on_status: Callable[[dict[str, Any]], None],
                 warm_pool: bool = False, durable: bool = False,
                 on_notice: Callable[[str], None] = logger.warning) -> None:
        self.on_status = on_status
        # kernels in the kernel host (they outlive the bridge) rather than its children
        self.durable = durable
        self.cull_after: float | None = CULL_AFTER
        # how long an empty host waits before it exits (its default unless set)
        idle_exit = os.environ.get("NBBRIDGE_HOST_IDLE_EXIT")
        self.host_idle_exit: float | None = float(idle_exit) if idle_exit else None
        self.on_notice = on_notice
        self._host: HostConnection | None = None
        self._host_lock = asyncio.Lock()
        self._pairing: set[asyncio.Task[None]] = set()
        self.warm_pool = warm_pool
        self.start_timeout = READY_TIMEOUT
        self.remote_start_timeout = REMOTE_START_TIMEOUT
        self._sessions: dict[str, KernelSession] = {}
        self._by_notebook: dict[str, str] = {}
        self._runtime_dir: str | None = None
        self._warm: asyncio.Task[KernelSession] | None = None
        self._warm_launching = False
        self._specs = spec_manager()
        self._reaper = Reaper()
        self._ids = itertools.count(1)
        # kernels that exited during an IPC start and then started on TCP
        self._tcp_learned: set[str] = set()

    @property
    def runtime_dir(self) -> str:
        if self._runtime_dir is None:
            self._runtime_dir = short_private_dir()
        return self._runtime_dir

    def learned_transport(self, name: str) -> Transport | None:
        """The transport a kernel was found to need here, where it differs from its traits."""
        return "tcp" if name in self._tcp_learned else None

    def traits(self, name: str) -> KernelTraits:
        """How the kernelspec `name` is run here (its transport as learned so far)."""
        try:
            spec = self._specs.get_kernel_spec(name).to_dict()
        except NoSuchKernel:
            spec = {}
        traits = traits_of(spec)
        if name in self._tcp_learned:
            traits = KernelTraits("tcp", traits.interrupt_mode, traits.setup_code)
        return traits

    # ---------------------------------------------------------------- start
    async def start(self, kernel_name: str | None = None, notebook_uri: str | None = None,
                    cwd: str | None = None,
                    extra_arguments: list[str] | None = None) -> KernelSession:
        """Start a kernel (or hand over the warm one); it is ``notebook_uri``'s kernel.
        ``extra_arguments`` go after the kernelspec's argv (no warm kernel then)."""
        name = kernel_name or NATIVE_KERNEL_NAME
        cwd = cwd or notebook_folder(notebook_uri)
        session = None if extra_arguments else await self._take_warm(name, cwd)
        warm = session is not None
        if session is None:
            session = await self._launch(name, cwd, announce=True,
                                         extra_arguments=extra_arguments)
        session.notebook_uri = notebook_uri
        self._adopt(session, announce=warm)
        if self.warm_pool:
            self.fill_pool(POOL_REFILL_DELAY)
        return session

    async def _launch(self, name: str, cwd: str | None, announce: bool,
                      extra_arguments: list[str] | None = None) -> KernelSession:
        spec = await asyncio.to_thread(self._check_launchable, name, cwd)
        traits = self.traits(name)
        try:
            session = await self._launch_on(traits.transport, name, cwd, announce,
                                            extra_arguments, traits, spec)
        except BridgeError as exc:
            if traits.transport != "ipc" or "exited during start" not in exc.message:
                raise
            # a kernel that takes no IPC endpoint exits at once: try it once on TCP, and
            # keep to TCP for it from now on
            logger.warning("kernel %r exited during an IPC start; starting it on TCP", name)
            session = await self._launch_on("tcp", name, cwd, announce, extra_arguments,
                                            traits, spec)
            self._tcp_learned.add(name)
        session.python = spec_python(spec)
        return session

    async def _launch_on(self, transport: Transport, name: str, cwd: str | None,
                         announce: bool, extra_arguments: list[str] | None,
                         traits: KernelTraits, spec: KernelSpec) -> KernelSession:
        status = self._announce if announce else _silent
        life: KernelLife
        connection = await self.host_connection() if self.durable else None
        if connection is not None:
            life = HostLife(connection, name, start={
                "spec": spec.to_dict(), "resourceDir": spec.resource_dir,
                "transport": transport, "cwd": cwd, "extraArguments": extra_arguments,
                "notebookUri": None, "cullAfter": self.cull_after})
            used_transport = transport
        else:
            manager, used_transport = new_kernel_manager(
                name, str(uuid.uuid4()), transport, self.runtime_dir, next(self._ids),
                specs=self._specs)
            life = LocalLife(manager, cwd, extra_arguments, self._reaper)
        used = KernelTraits(used_transport, traits.interrupt_mode, traits.setup_code)
        try:
            session = await KernelSession.start(life, None, status, self.start_timeout,
                                                traits=used)
            if isinstance(life, HostLife):
                hosted = life.summary.get("transport")
                if hosted in ("ipc", "tcp"):
                    session.traits = KernelTraits(hosted, used.interrupt_mode,
                                                  used.setup_code)
            return session
        except BridgeError:
            raise
        except Exception as exc:
            raise BridgeError(ErrorCode.KERNEL_START_FAILED,
                              f"kernel {name!r} could not be started: {exc}") from exc

    def _python_of(self, name: str) -> str | None:
        try:
            return spec_python(self._specs.get_kernel_spec(name))
        except NoSuchKernel:
            return None

    def _check_launchable(self, name: str, cwd: str | None) -> KernelSpec:
        """The kernelspec `name`, or a clear error if it or the cwd is missing."""
        try:
            spec: KernelSpec = self._specs.get_kernel_spec(name)
        except NoSuchKernel:
            known = ", ".join(sorted(self._specs.find_kernel_specs())) or "none"
            raise BridgeError(ErrorCode.KERNEL_START_FAILED,
                              f"no kernelspec named {name!r} (installed: {known})") from None
        if cwd is not None and not os.path.isdir(cwd):
            raise BridgeError(ErrorCode.KERNEL_START_FAILED, f"cwd {cwd!r} is not a folder")
        return spec

    def _adopt(self, session: KernelSession, announce: bool) -> None:
        self._sessions[session.kernel_id] = session
        session.on_status = self._announce
        if session.notebook_uri:
            self._by_notebook[session.notebook_uri] = session.kernel_id
        if isinstance(session.life, HostLife):
            # the host's table pairs notebooks with kernels across editor restarts
            self._pairing.add(asyncio.create_task(session.life.pair(session.notebook_uri)))
            for task in [task for task in self._pairing if task.done()]:
                self._pairing.discard(task)
        if announce:
            # a warm kernel started unannounced: the client hears about it now
            self._announce(session, session.state, None)

    def _announce(self, session: KernelSession, state: str, reason: str | None) -> None:
        status: dict[str, Any] = {"kernelId": session.kernel_id, "state": state}
        if reason is not None:
            status["reason"] = reason
        try:
            self.on_status(status)
        except Exception:
            logger.exception("kernel status callback failed")

    async def start_remote(self, server: JupyterServer, kernel_name: str | None,
                           notebook_uri: str | None,
                           remote_id: str | None = None) -> KernelSession:
        """Start a kernel on a server (or attach to its running kernel `remote_id`)."""
        from bridge.kernels.remote.life import RemoteLife  # aiohttp, when first used

        specs = await server.kernelspecs()
        known: dict[str, Any] = specs.get("kernelspecs") or {}
        name = kernel_name or str(specs.get("default") or "")
        if remote_id is None and name not in known:
            raise BridgeError(ErrorCode.KERNEL_START_FAILED,
                              f"{server.address.display} has no kernelspec {name!r} "
                              f"(it has: {', '.join(sorted(known)) or 'none'})")
        spec = (known.get(name) or {}).get("spec") or {}
        # the server's interrupt endpoint interrupts the way the kernel takes it
        traits = KernelTraits("websocket", "signal", traits_of(spec).setup_code)
        life = RemoteLife(server, name, notebook_uri, remote_id, self.remote_start_timeout)
        session = await KernelSession.start(life, notebook_uri, self._announce,
                                            self.remote_start_timeout, traits=traits)
        self._adopt(session, announce=False)
        return session

    async def forget_server(self, server_id: str) -> None:
        """Let go of a removed server's kernels; they go on running there."""
        for session in list(self._sessions.values()):
            if session.life.describe().get("serverId") == server_id:
                self._drop(session.kernel_id)
                await session.detach()
                session.exit_reason = "its server was removed"
                self._announce(session, "dead", "its server was removed")

    # ---------------------------------------------------------- kernel host
    async def host_connection(self) -> HostConnection | None:
        """The connection to the kernel host (started when absent); None, after telling
        the user why, when it cannot be had: kernels then run as the bridge's children."""
        async with self._host_lock:
            if self._host is not None and not self._host.closed.is_set():
                return self._host
            try:
                self._host = await HostConnection.open(idle_exit=self.host_idle_exit)
            except BridgeError as exc:
                self.on_notice(f"kernels will not outlive this window: {exc.message}")
                self.durable = False
                return None
            return self._host

    async def attach(self, notebook_uri: str, after_seq: int | None
                     ) -> tuple[KernelSession | None, HostChannels | None, dict[str, Any]]:
        """The kernel the host runs for `notebook_uri`, as a session of this bridge, with
        what happened since `after_seq`: (session, its held channels, the attach reply).
        A kernel that died while nobody was attached gives no session, only its journal."""
        existing = self.for_notebook(notebook_uri)
        if existing is not None:
            return existing, None, {"executions": [], "seq": None}
        connection = await self.host_connection() if self.durable else None
        if connection is None:
            return None, None, {"executions": [], "seq": None}
        found = (await connection.request("find", {"notebookUri": notebook_uri}))["kernel"]
        if found is None:
            return None, None, {"executions": [], "seq": None}
        if found.get("state") == "dead":
            attached = await connection.request(
                "attach", {"kernelId": found["kernelId"], "afterSeq": after_seq})
            await connection.request("shutdown", {"kernelId": found["kernelId"],
                                                  "now": True})
            return None, None, attached
        name = str(found.get("specName") or "")
        traits = await asyncio.to_thread(self.traits, name)
        transport = found.get("transport")
        if transport in ("ipc", "tcp"):
            traits = KernelTraits(transport, traits.interrupt_mode, traits.setup_code)
        life = HostLife(connection, name, attach_to=found, after_seq=after_seq)
        session, channels = await KernelSession.attach(life, notebook_uri, self._announce,
                                                       traits)
        session.python = await asyncio.to_thread(self._python_of, name)
        self._adopt(session, announce=False)
        return session, channels, channels.attached or {}

    async def list_kernels(self) -> list[dict[str, Any]]:
        """Every kernel: the host's (with those of other windows) or this bridge's."""
        connection = await self.host_connection() if self.durable else None
        if connection is not None:
            listed = (await connection.request("list", {}))["kernels"]
            for kernel in listed:
                kernel["here"] = kernel["kernelId"] in self._sessions
            return list(listed)
        return [{"kernelId": s.kernel_id, "specName": s.spec_name,
                 "notebookUri": s.notebook_uri, "state": s.state,
                 "pid": s.life.describe().get("pid"), "here": True}
                for s in self._sessions.values()]

    # ------------------------------------------------------------ warm pool
    def fill_pool(self, delay: float = 0.0) -> None:
        """Start the default kernel ahead of time unless one is already waiting."""
        if self._warm is None:
            self._warm_launching = False
            self._warm = asyncio.create_task(self._launch_warm(delay))

    async def _launch_warm(self, delay: float) -> KernelSession:
        # the refill waits a moment: the kernel just handed over is about to run its
        # first cell, and a kernel starting beside it would take the CPU it needs
        await asyncio.sleep(delay)
        self._warm_launching = True
        session = await self._launch(NATIVE_KERNEL_NAME, None, announce=False)
        # a first execution costs more than later ones: pay it before anyone waits
        await session.execute_silently("pass")
        return session

    async def _take_warm(self, name: str, cwd: str | None) -> KernelSession | None:
        if not self.warm_pool or name != NATIVE_KERNEL_NAME or self._warm is None:
            return None
        if not self._warm_launching:
            return None  # still waiting to start: a cold start is sooner; it stays queued
        warm, self._warm = self._warm, None
        try:
            session = await warm
        except Exception:
            logger.exception("the warm kernel failed to start; starting another")
            return None
        if session.state != "idle":
            await session.shutdown()
            return None
        if cwd is not None:
            # not awaited: the shell runs requests in order, so any cell sent after this
            # runs in the notebook's folder
            session.execute_silently(
                f"import os as __os; __os.chdir({cwd!r}); del __os")
        return session

    # --------------------------------------------------------------- lookup
    def get(self, kernel_id: str) -> KernelSession:
        try:
            return self._sessions[kernel_id]
        except KeyError:
            raise BridgeError(ErrorCode.UNKNOWN_KERNEL,
                              f"no kernel with id {kernel_id!r} (shut down or never started)"
                              ) from None

    def for_notebook(self, notebook_uri: str) -> KernelSession | None:
        kernel_id = self._by_notebook.get(notebook_uri)
        return self._sessions.get(kernel_id) if kernel_id else None

    def __iter__(self) -> Any:
        return iter(list(self._sessions.values()))

    # ------------------------------------------------------------- shutdown
    async def shutdown(self, kernel_id: str) -> None:
        if kernel_id not in self._sessions and self._host is not None:
            # another window's kernel, or one nobody is attached to
            await self._host.request("shutdown", {"kernelId": kernel_id, "now": False},
                                     timeout=60.0)
            return
        session = self._drop(kernel_id)
        await session.shutdown()

    def _drop(self, kernel_id: str) -> KernelSession:
        session = self.get(kernel_id)
        del self._sessions[kernel_id]
        if session.notebook_uri and self._by_notebook.get(session.notebook_uri) == kernel_id:
            del self._by_notebook[session.notebook_uri]
        return session

    async def shutdown_all(self) -> None:
        """Stop every kernel, the warm one too; nothing may outlive the bridge."""
        sessions = list(self._sessions.values())
        self._sessions.clear()
        self._by_notebook.clear()
        warm, self._warm = self._warm, None
        if warm is not None:
            warm.cancel()
            with contextlib.suppress(BaseException):
                sessions.append(await warm)
        # a server's kernels stay there, for this or another client to attach to
        results = await asyncio.gather(
            *(s.shutdown() if s.life.owned else s.detach() for s in sessions),
            return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                logger.error("kernel shutdown failed: %s", result)
        if self._host is not None:
            await self._host.close()
            self._host = None
        if self._runtime_dir is not None:
            shutil.rmtree(self._runtime_dir, ignore_errors=True)
            self._runtime_dir = None
        self._reaper.close()


def _silent(session: KernelSession, state: str, reason: str | None) -> None:
    """Status of a kernel nobody has been given yet."""
