"""Real Jupyter servers on 127.0.0.1 for the tests: jupyter_server and Jupyter Kernel
Gateway, each in its own process group, stopped with their kernels even when a test fails."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

START_TIMEOUT = 60.0


@dataclass
class RunningServer:
    kind: str
    url: str
    token: str
    process: subprocess.Popen[bytes]
    root: Path
    log: Path
    unix_socket: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        """The whole group: the server and every kernel it started."""
        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(wait)
            except subprocess.TimeoutExpired:
                continue
            # kernels may linger a moment after their server
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                try:
                    os.killpg(self.process.pid, 0)
                except ProcessLookupError:
                    return
                time.sleep(0.05)

    def api(self, path: str, method: str = "GET", body: object = None) -> object:
        """A REST call as the tests' own observer of the server (urllib, TCP servers)."""
        request = urllib.request.Request(
            self.url + path, method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"token {self.token}",
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
        return json.loads(text) if text else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _environment(runtime: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["JUPYTER_RUNTIME_DIR"] = str(runtime)
    env.pop("JUPYTER_SERVER_URL", None)
    env.pop("JUPYTER_TOKEN", None)
    return env


def _wait_for(check: Callable[[], bool], process: subprocess.Popen[bytes], log: Path,
              what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited: {log.read_text()[-2000:]}")
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start: {log.read_text()[-2000:]}")


def _answering(server: RunningServer, what: str) -> RunningServer:
    """`server` once its REST API answers (stopped if it never does)."""
    def ready() -> bool:
        try:
            server.api("api/kernelspecs")
        except (urllib.error.URLError, ConnectionError, OSError):
            return False
        return True

    try:
        _wait_for(ready, server.process, server.log, what)
    except BaseException:
        server.stop()
        raise
    return server


def start_jupyter_server(base: Path, *extra: str, unix_socket: str | None = None,
                         scheme: str = "http") -> RunningServer:
    """jupyter_server 2.x; its URL and token read from its runtime file."""
    root, runtime = base / "root", base / "runtime"
    root.mkdir(parents=True, exist_ok=True)
    runtime.mkdir(parents=True, exist_ok=True)
    log = base / "jupyter_server.log"
    listen = ([f"--ServerApp.sock={unix_socket}"] if unix_socket else
              ["--ServerApp.ip=127.0.0.1", f"--ServerApp.port={free_port()}",
               "--ServerApp.port_retries=0"])
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root",
         f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={secrets.token_hex(16)}",
         *listen, *extra],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, env=_environment(runtime),
        start_new_session=True)
    info: dict[str, object] = {}

    def ready() -> bool:
        for path in runtime.glob("jpserver-*.json"):
            try:
                info.update(json.loads(path.read_text()))
            except (OSError, ValueError):
                return False
            return True
        return False

    try:
        _wait_for(ready, process, log, "jupyter_server")
    except BaseException:
        RunningServer("jupyter_server", "", "", process, root, log).stop()
        raise
    url = str(info["url"])
    if unix_socket is None and scheme == "https":
        url = url.replace("http://", "https://")
    return RunningServer("jupyter_server", url, str(info["token"]), process, root, log,
                         unix_socket=unix_socket)


def start_kernel_gateway(base: Path) -> RunningServer:
    """Jupyter Kernel Gateway (jupyter-websocket personality, kernels listed)."""
    base.mkdir(parents=True, exist_ok=True)
    runtime = base / "runtime"
    runtime.mkdir(exist_ok=True)
    port, token = free_port(), secrets.token_hex(16)
    log = base / "kernel_gateway.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "kernel_gateway", "--KernelGatewayApp.ip=127.0.0.1",
         f"--KernelGatewayApp.port={port}", "--KernelGatewayApp.port_retries=0",
         f"--KernelGatewayApp.auth_token={token}",
         "--JupyterWebsocketPersonality.list_kernels=True"],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, env=_environment(runtime),
        start_new_session=True, cwd=base)
    server = RunningServer("kernel_gateway", f"http://127.0.0.1:{port}/", token, process,
                           base, log)

    return _answering(server, "kernel gateway")


ENTERPRISE_GATEWAY = Path(__file__).resolve().parents[2] / ".tools" / "enterprise-gateway"


def start_enterprise_gateway(base: Path) -> RunningServer:
    """Jupyter Enterprise Gateway from its own venv (it pins an older jupyter_server),
    launching local kernels from that venv."""
    base.mkdir(parents=True, exist_ok=True)
    runtime = base / "runtime"
    runtime.mkdir(exist_ok=True)
    port, token = free_port(), secrets.token_hex(16)
    log = base / "enterprise_gateway.log"
    env = _environment(runtime)
    env["PATH"] = f"{ENTERPRISE_GATEWAY / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.pop("JUPYTER_PATH", None)
    env.pop("PYTHONPATH", None)
    process = subprocess.Popen(
        [str(ENTERPRISE_GATEWAY / "bin" / "jupyter-enterprisegateway"), "--ip=127.0.0.1",
         f"--port={port}", "--port_retries=0", f"--EnterpriseGatewayApp.auth_token={token}",
         # it refuses kernels to root by default; the tests may run as root
         "--EnterpriseGatewayApp.unauthorized_users=set()"],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env, start_new_session=True,
        cwd=base)
    server = RunningServer("enterprise_gateway", f"http://127.0.0.1:{port}/", token, process,
                           base, log)

    return _answering(server, "enterprise gateway")
