"""The other side of the channels seam: a kernel's life (start, restart, interrupt, stop,
noticing its end), apart from its messages.

A `KernelSession` drives a `KernelLife` and talks through the `KernelChannels` the life
makes. `LocalLife` is a process that jupyter_client's AsyncKernelManager launched here;
bridge.kernels.remote.life has kernels that a Jupyter Server runs.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Callable
from typing import Any, Protocol

import zmq
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager

from bridge.kernels.channels import KernelChannels
from bridge.kernels.process_log import ProcessLog
from bridge.kernels.reaper import Reaper
from bridge.kernels.traits import Transport, ipc_fits
from bridge.kernels.watch import watch_process
from bridge.kernels.zmq_channels import ZmqChannels

LinkCallback = Callable[[str], None]
"""Gets the state of the link to a kernel elsewhere: "disconnected", "reconnecting",
"connected"."""

# the kernel's stdout and stderr come to the bridge (ProcessLog), never to its client pipe
PROCESS_PIPES = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
SHUTDOWN_WAIT = 3.0
# loopback TCP, encrypted with CurveZMQ when libzmq has it and the kernelspec declares
# support (metadata.supported_encryption)
TCP: dict[str, Any] = {"transport": "tcp", "ip": "127.0.0.1",
                       "transport_encryption": "auto" if zmq.has("curve") else "disabled"}


def new_kernel_manager(name: str, kernel_id: str, transport: Transport, folder: str,
                       number: int, specs: KernelSpecManager | None = None,
                       spec: KernelSpec | None = None) -> tuple[AsyncKernelManager, Transport]:
    """A manager for kernel `name` with its sockets in `folder` (IPC where the kernel
    takes it and the path fits, else loopback TCP). `spec`, when given, is used as is
    instead of being looked up. Returns it and the transport it uses."""
    ipc_ip = os.path.join(folder, f"k{number}")
    used: Transport = "ipc" if transport == "ipc" and ipc_fits(ipc_ip) else "tcp"
    settings = {"transport": "ipc", "ip": ipc_ip} if used == "ipc" else TCP
    extra: dict[str, Any] = {} if specs is None else {"kernel_spec_manager": specs}
    manager = AsyncKernelManager(
        kernel_name=name, **extra, **settings,
        connection_file=os.path.join(folder, f"k{number}.json"),
        shutdown_wait_time=SHUTDOWN_WAIT,
    )
    manager.kernel_id = kernel_id
    if spec is not None:
        manager._kernel_spec = spec
    return manager, used


class KernelLife(Protocol):
    kernel_id: str
    spec_name: str
    owned: bool
    """Whether the kernel ends with the bridge (a server's kernels stay on the server)."""

    async def launch(self) -> None:
        """Start the kernel (it may not answer yet)."""
        ...

    async def relaunch(self) -> None:
        """Restart it under the same identity (after `launch` or a death)."""
        ...

    async def signal_interrupt(self) -> None:
        """Interrupt out of band (SIGINT, or the server's interrupt endpoint)."""
        ...

    async def stop(self, now: bool) -> None:
        """Stop it: politely first unless `now`; never raises for a kernel already gone."""
        ...

    async def ended(self) -> str:
        """Wait until the kernel ends by itself; return why, for the user."""
        ...

    def channels(self, on_link: LinkCallback) -> KernelChannels:
        """New channels to the kernel as it is now (made anew at each (re)start)."""
        ...

    @property
    def running(self) -> bool:
        """Whether there is a kernel to stop."""
        ...

    @property
    def came_back(self) -> bool:
        """After `ended`: whether the kernel was restarted for us (by its server)."""
        ...

    def said(self) -> str:
        """The last lines the kernel wrote outside its channels (for start errors)."""
        ...

    async def said_all(self, timeout: float) -> None:
        """Wait up to `timeout` for what the kernel wrote to be read."""
        ...

    def describe(self) -> dict[str, Any]:
        """What the kernel/start result tells of where it runs (pid, connection file...)."""
        ...


class LocalLife:
    """A kernel process launched here by jupyter_client, its output read into a ProcessLog
    and its process group known to the reaper."""

    owned = True
    came_back = False

    def __init__(self, manager: AsyncKernelManager, cwd: str | None,
                 extra_arguments: list[str] | None, reaper: Reaper | None,
                 env: dict[str, str] | None = None) -> None:
        self.manager = manager
        self._env = env
        self.kernel_id: str = manager.kernel_id
        self.spec_name: str = manager.kernel_name
        self._cwd = cwd
        self._extra_arguments = extra_arguments or []
        self._reaper = reaper
        self._pgid: int | None = None
        self.process_log = ProcessLog(self.kernel_id)

    async def launch(self) -> None:
        extra: dict[str, Any] = {} if self._env is None else {"env": self._env}
        await self.manager.start_kernel(cwd=self._cwd, extra_arguments=self._extra_arguments,
                                        **PROCESS_PIPES, **extra)
        await self._track_process()

    async def relaunch(self) -> None:
        self._untrack_process()
        if self.manager.has_kernel:
            await self.manager.restart_kernel(now=False)
        else:
            await self.manager.start_kernel(**(self.manager._launch_args or {}))
        await self._track_process()

    async def signal_interrupt(self) -> None:
        await self.manager.interrupt_kernel()  # SIGINT to the kernel's process group

    async def stop(self, now: bool) -> None:
        try:
            if not now and self.manager.has_kernel:
                await self.manager.shutdown_kernel(now=False)
        finally:
            with contextlib.suppress(Exception):
                if self.manager.has_kernel:
                    await self.manager.shutdown_kernel(now=True)
            with contextlib.suppress(Exception):
                self.manager.cleanup_connection_file()
            self._untrack_process()
            self.process_log.close()

    async def ended(self) -> str:
        reason = await watch_process(self.manager)
        self._untrack_process()
        return reason

    def channels(self, on_link: LinkCallback) -> KernelChannels:
        manager = self.manager
        keys = None
        if manager.curve_publickey is not None and manager.curve_secretkey is not None:
            keys = (manager.curve_secretkey, manager.curve_publickey)
        return ZmqChannels(manager.session, manager.get_connection_info(), keys,
                           label=manager.kernel_id)

    @property
    def running(self) -> bool:
        return bool(self.manager.has_kernel)

    def said(self) -> str:
        return self.process_log.tail()

    async def said_all(self, timeout: float) -> None:
        await self.process_log.drained(timeout)

    @property
    def pid(self) -> int | None:
        process = getattr(self.manager.provisioner, "process", None)
        return getattr(process, "pid", None)

    def describe(self) -> dict[str, Any]:
        return {"pid": self.pid, "connectionFile": self.manager.connection_file}

    async def _track_process(self) -> None:
        """A new process: read its output, and let the reaper know its group."""
        self.process_log.close()
        self.process_log = ProcessLog(self.kernel_id)
        process = getattr(self.manager.provisioner, "process", None)
        if process is not None:
            await self.process_log.attach(process)
        pgid = getattr(self.manager.provisioner, "pgid", None)
        if self._reaper is not None and isinstance(pgid, int):
            self._pgid = pgid
            self._reaper.watch(pgid)

    def _untrack_process(self) -> None:
        pgid, self._pgid = self._pgid, None
        if self._reaper is not None and pgid is not None:
            self._reaper.forget(pgid)
