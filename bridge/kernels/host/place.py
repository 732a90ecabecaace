"""Where the kernel host lives: a private per-user runtime folder with its socket, its
lock and its log, and the checks that keep other users out.

The folder is `$NBBRIDGE_RUNTIME_DIR`, else `$XDG_RUNTIME_DIR/nbbridge`, else
`/tmp/nbbridge-<uid>`; it must be the user's own and mode 0700 (a folder someone else
made or opened up is refused, never repaired behind the user's back). The socket is 0600
and the host checks each peer's uid (SO_PEERCRED) as well.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bridge.errors import BridgeError, ErrorCode

SOCKET_NAME = "kernel-host.sock"
SPAWN_LOCK_NAME = "kernel-host.spawn.lock"
LIFE_LOCK_NAME = "kernel-host.pid"
LOG_NAME = "kernel-host.log"
_PEERCRED = struct.Struct("3i")  # pid, uid, gid


@dataclass(frozen=True)
class HostPlace:
    folder: Path

    @property
    def socket_path(self) -> Path:
        return self.folder / SOCKET_NAME

    @property
    def spawn_lock(self) -> Path:
        return self.folder / SPAWN_LOCK_NAME

    @property
    def life_lock(self) -> Path:
        """Held by the running host for its whole life: two hosts never run at once."""
        return self.folder / LIFE_LOCK_NAME

    @property
    def log(self) -> Path:
        return self.folder / LOG_NAME


def default_folder() -> Path:
    chosen = os.environ.get("NBBRIDGE_RUNTIME_DIR")
    if chosen:
        return Path(chosen)
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and os.path.isdir(xdg) and os.stat(xdg).st_uid == os.getuid():
        return Path(xdg) / "nbbridge"
    return Path("/tmp") / f"nbbridge-{os.getuid()}"


def private_place(folder: Path | None = None) -> HostPlace:
    """The host's folder, made 0700 if absent; a BridgeError if it is not private."""
    folder = folder or default_folder()
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700, parents=False)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode):
        raise BridgeError(ErrorCode.KERNEL_HOST_FAILED,
                          f"the kernel host's folder {folder} is not a folder")
    if info.st_uid != os.getuid():
        raise BridgeError(ErrorCode.KERNEL_HOST_FAILED,
                          f"the kernel host's folder {folder} belongs to uid {info.st_uid}, "
                          f"not to this user (uid {os.getuid()}); remove it or choose "
                          "another with NBBRIDGE_RUNTIME_DIR")
    if info.st_mode & 0o077:
        raise BridgeError(ErrorCode.KERNEL_HOST_FAILED,
                          f"the kernel host's folder {folder} is open to others (mode "
                          f"{stat.S_IMODE(info.st_mode):o}); it must be 0700: "
                          f"`chmod 700 {folder}`")
    return HostPlace(folder)


@contextlib.contextmanager
def locked(path: Path, wait: bool = True) -> Iterator[bool]:
    """An exclusive flock on `path` (created 0600); yields whether it was taken."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def hold_life_lock(place: HostPlace) -> int | None:
    """Take the host's life lock for as long as the process lives; None if another
    host holds it. Writes this process's pid into it."""
    fd = os.open(place.life_lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


def host_pid(place: HostPlace) -> int | None:
    """The pid the running host wrote into its life lock (None if no host holds it)."""
    with locked(place.life_lock, wait=False) as free:
        if free:
            return None
    try:
        return int(place.life_lock.read_text().strip() or "0") or None
    except (OSError, ValueError):
        return None


def peer_uid(connection: socket.socket) -> int:
    """The uid of the process at the other end of a Unix socket."""
    raw = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size)
    _, uid, _ = _PEERCRED.unpack(raw)
    return int(uid)
