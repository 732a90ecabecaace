"""What the bridge must know about a kernel beyond its kernelspec: which transport it takes,
how it is interrupted, and set-up code that makes it behave in an editor.

A kernelspec may say it itself (``metadata.nbbridge.transport``: "ipc" or "tcp";
``interrupt_mode``); for kernels whose specs say nothing, a short list of known kernels
fills in; a kernel that exits during an IPC start is retried on TCP by the registry.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Literal

Transport = Literal["ipc", "tcp", "websocket"]
InterruptMode = Literal["signal", "message"]

# Kernels that cannot take IPC endpoints, by the basename of argv[0] or of the module
# they run: Deno parses the endpoint as a URL with a host; xeus kernels take IPC only on
# very short paths (checked by `ipc_fits`).
_TCP_ONLY = {"deno"}
# Kernels that die on SIGINT but answer an interrupt_request on the control channel.
_MESSAGE_INTERRUPT = {"deno"}
# The longest IPC path prefix every kernel tried takes: xeus-python refuses a
# "ipc://<ip>-<port>" endpoint of 32 characters or more.
IPC_IP_LIMIT = 23

# bash_kernel runs bash on a terminal it never reads from: a `read` from that terminal
# would wait for ever. Reading from anything else (a pipe, a file, a here-string) is left
# to the builtin.
_BASH_READ_GUARD = r"""read() {
  if [ -t 0 ]; then
    echo "read: this kernel cannot ask for input (bash_kernel has no stdin);" \
      "give it the input instead, e.g. read name <<< 'value'" >&2
    return 1
  fi
  builtin read "$@"
}"""

# xeus-python embeds Python without its SIGINT handler at the C level (Python's table says
# default_int_handler, but the process still dies of the signal): installing it again
# turns an interrupt into KeyboardInterrupt, as in ipykernel.
_PYTHON_SIGINT_HANDLER = ("import signal as __signal\n"
                          "__signal.signal(__signal.SIGINT, __signal.default_int_handler)\n"
                          "del __signal")
_XEUS_PYTHON = {"xpython", "xpython_launcher"}


@dataclass(frozen=True)
class KernelTraits:
    transport: Transport
    interrupt_mode: InterruptMode
    setup_code: str | None = None  # run unseen after each (re)start


def _names(argv: list[str]) -> set[str]:
    """argv[0]'s basename and, for `python -m MODULE`, the module."""
    names = {os.path.basename(argv[0])} if argv else set()
    if "-m" in argv[:-1]:
        names.add(argv[argv.index("-m") + 1].split(".")[0])
    return names


def traits_of(spec: dict[str, Any], posix: bool = os.name == "posix") -> KernelTraits:
    """The traits of a kernel from its kernelspec (a kernel.json dict)."""
    argv = [str(part) for part in spec.get("argv") or []]
    names = _names(argv)
    declared = ((spec.get("metadata") or {}).get("nbbridge") or {}).get("transport")
    transport: Transport
    if declared in ("ipc", "tcp"):
        transport = declared
    else:
        transport = "tcp" if names & _TCP_ONLY else "ipc"
    if not posix:
        transport = "tcp"
    interrupt: InterruptMode = "message" if (
        spec.get("interrupt_mode") == "message" or names & _MESSAGE_INTERRUPT) else "signal"
    setup = (_BASH_READ_GUARD if "bash_kernel" in names else
             _PYTHON_SIGINT_HANDLER if names & _XEUS_PYTHON else None)
    return KernelTraits(transport, interrupt, setup)


def ipc_fits(ip: str) -> bool:
    """Whether an IPC path prefix is short enough for every kernel."""
    return len(ip) <= IPC_IP_LIMIT
