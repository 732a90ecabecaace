"""The kernel host's folder and socket are the user's alone: modes, a folder open to
others refused with a clear message, another uid refused by the host itself."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
from pathlib import Path

import pytest

from bridge.kernels.host.place import SOCKET_NAME

from host.host_helpers import Hosted

# stdlib only, run by the system Python as another user: connect, print what comes back
PEER = """
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except OSError as exc:
    print("connect failed:", type(exc).__name__); sys.exit(0)
head = s.recv(4)
if len(head) < 4:
    print("closed"); sys.exit(0)
(length,) = struct.unpack("!I", head)
body = b""
while len(body) < length:
    body += s.recv(length - len(body))
print(body[1:].decode())
print("then:", "closed" if not s.recv(1) else "open")
"""


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_folder_is_0700_and_the_socket_0600(hosted: Hosted) -> None:
    bridge = await hosted.bridge()
    started = await bridge.request("kernel/start", {})
    assert started["durable"] is True
    assert mode(hosted.folder) == 0o700
    assert mode(hosted.folder / SOCKET_NAME) == 0o600
    assert stat.S_ISSOCK((hosted.folder / SOCKET_NAME).stat().st_mode)
    for name in ("kernel-host.pid", "kernel-host.log"):
        assert mode(hosted.folder / name) == 0o600


async def test_a_folder_open_to_others_is_refused_and_kernels_run_directly(
        hosted: Hosted) -> None:
    hosted.folder.mkdir(mode=0o755)
    os.chmod(hosted.folder, 0o755)
    bridge = await hosted.bridge()
    started = await bridge.request("kernel/start", {})
    assert "durable" not in started  # the bridge's own child
    warning = await bridge.wait_for_notification("window/showMessage")
    assert "open to others" in warning["message"] and str(hosted.folder) in warning["message"]
    assert "chmod 700" in warning["message"]
    assert mode(hosted.folder) == 0o755  # not repaired behind the user's back
    assert not (hosted.folder / SOCKET_NAME).exists()


@pytest.mark.skipif(os.getuid() != 0, reason="switching to another uid needs root")
async def test_another_uid_is_refused(hosted: Hosted) -> None:
    bridge = await hosted.bridge()
    await bridge.request("kernel/start", {})
    socket_path = hosted.folder / SOCKET_NAME
    as_nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                 "/usr/bin/python3", "-c", PEER, str(socket_path)]
    # as the folder is: nobody cannot even reach the socket
    denied = await asyncio.to_thread(subprocess.run, as_nobody, capture_output=True,
                                     text=True, timeout=30)
    assert denied.stdout.strip() == "connect failed: PermissionError", denied.stderr
    # opened up by hand, the host itself still refuses another uid
    for folder in (hosted.folder.parent, hosted.folder):
        os.chmod(folder, 0o711)
    os.chmod(socket_path, 0o666)
    try:
        refused = await asyncio.to_thread(subprocess.run, as_nobody, capture_output=True,
                                          text=True, timeout=30)
    finally:
        os.chmod(socket_path, 0o600)
        for folder in (hosted.folder, hosted.folder.parent):
            os.chmod(folder, 0o700)
    assert '"event":"refused"' in refused.stdout, refused.stdout + refused.stderr
    assert f"serves uid {os.getuid()} only" in refused.stdout
    assert refused.stdout.strip().endswith("then: closed")
