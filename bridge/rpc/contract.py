"""The bridge's custom JSON-RPC contract: method names, and results sent as encoded.

docs/protocol.md documents every method named here. Custom methods travel as plain
dicts, both ways.
"""

from __future__ import annotations

PROTOCOL_VERSION = 1

NOTEBOOK_DESERIALIZE = "notebook/deserialize"
NOTEBOOK_SERIALIZE = "notebook/serialize"
NOTEBOOK_EXPORT = "notebook/export"
NOTEBOOK_CHECKPOINT = "notebook/checkpoint"
KERNEL_SPECS = "kernel/specs"
KERNEL_START = "kernel/start"
KERNEL_EXECUTE = "kernel/execute"
KERNEL_INTERRUPT = "kernel/interrupt"
KERNEL_RESTART = "kernel/restart"
KERNEL_SHUTDOWN = "kernel/shutdown"
KERNEL_ENVIRONMENTS = "kernel/environments"
KERNEL_INSTALL_IPYKERNEL = "kernel/installIpykernel"
KERNEL_SERVERS_ADD = "kernel/servers/add"
KERNEL_SERVERS_LIST = "kernel/servers/list"
KERNEL_SERVERS_REMOVE = "kernel/servers/remove"
KERNEL_SERVERS_KERNELS = "kernel/servers/kernels"
KERNEL_SEND_COMM = "kernel/sendComm"
KERNEL_COMM_INFO = "kernel/commInfo"
KERNEL_WIDGET_STATE = "kernel/widgetState"
KERNEL_ATTACH = "kernel/attach"
KERNEL_LIST = "kernel/list"
KERNEL_EXECUTION_ENDED = "kernel/executionEnded"
KERNEL_COMM = "kernel/comm"
KERNEL_OUTPUT = "kernel/output"
KERNEL_STATUS = "kernel/status"
KERNEL_INPUT = "kernel/input"
KERNEL_ENVIRONMENTS_CHANGED = "kernel/environmentsChanged"
SCRIPT_CELL_RESULT = "script/cellResult"
KERNEL_METHODS = [KERNEL_SPECS, KERNEL_START, KERNEL_EXECUTE, KERNEL_INTERRUPT,
                  KERNEL_RESTART, KERNEL_SHUTDOWN, KERNEL_ENVIRONMENTS,
                  KERNEL_INSTALL_IPYKERNEL, KERNEL_SERVERS_ADD, KERNEL_SERVERS_LIST,
                  KERNEL_SERVERS_REMOVE, KERNEL_SERVERS_KERNELS, KERNEL_SEND_COMM,
                  KERNEL_COMM_INFO, KERNEL_WIDGET_STATE, KERNEL_ATTACH, KERNEL_LIST]

CUSTOM_METHODS: list[str] = [
    NOTEBOOK_DESERIALIZE, NOTEBOOK_SERIALIZE,
    NOTEBOOK_EXPORT, NOTEBOOK_CHECKPOINT,
    *KERNEL_METHODS,
]
"""Every custom request the bridge answers, advertised in the initialize result."""

SERVER_NOTIFICATIONS: list[str] = [KERNEL_OUTPUT, KERNEL_STATUS, SCRIPT_CELL_RESULT,
                                   KERNEL_ENVIRONMENTS_CHANGED, KERNEL_COMM,
                                   KERNEL_EXECUTION_ENDED]
"""Custom notifications the bridge sends to the client."""

SERVER_REQUESTS: list[str] = [KERNEL_INPUT]
"""Custom requests the bridge sends to the client."""


class RawResult:
    """A result already encoded as JSON, in pieces written one after another: a large
    file's text goes out as it is instead of being copied into one message body."""

    def __init__(self, *pieces: bytes | memoryview) -> None:
        self.pieces = pieces
