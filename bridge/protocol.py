"""The bridge's custom JSON-RPC contract: method names, errors and the protocol class.

Custom methods travel as plain dicts, both ways. Standard LSP methods keep pygls's
lsprotocol types. docs/protocol.md documents every method named here.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Generator
from typing import Any

import attrs
import orjson
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    LanguageServerProtocol,
    lsp_method,
)

from bridge.pipes import PipeWriter

logger = logging.getLogger(__name__)

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
KERNEL_OUTPUT = "kernel/output"
KERNEL_STATUS = "kernel/status"
KERNEL_INPUT = "kernel/input"
SCRIPT_CELL_RESULT = "script/cellResult"
KERNEL_METHODS = [KERNEL_SPECS, KERNEL_START, KERNEL_EXECUTE, KERNEL_INTERRUPT,
                  KERNEL_RESTART, KERNEL_SHUTDOWN]

CUSTOM_METHODS: list[str] = [
    NOTEBOOK_DESERIALIZE, NOTEBOOK_SERIALIZE,
    NOTEBOOK_EXPORT, NOTEBOOK_CHECKPOINT,
    *KERNEL_METHODS,
]
"""Every custom request the bridge answers, advertised in the initialize result."""

SERVER_NOTIFICATIONS: list[str] = [KERNEL_OUTPUT, KERNEL_STATUS, SCRIPT_CELL_RESULT]
"""Custom notifications the bridge sends to the client."""

SERVER_REQUESTS: list[str] = [KERNEL_INPUT]
"""Custom requests the bridge sends to the client."""


class ErrorCode(enum.IntEnum):
    """JSON-RPC error codes of the bridge (the -320xx server-defined range)."""

    NOT_JSON = -32001
    NOT_A_NOTEBOOK = -32002
    TOO_LARGE = -32003
    OUTPUTS_UNKNOWN = -32004
    UNKNOWN_KERNEL = -32010
    KERNEL_DEAD = -32011
    KERNEL_START_FAILED = -32012
    FILE_ERROR = -32020
    EXPORT_FAILED = -32021
    NO_CHECKPOINT = -32022
    INVALID_PARAMS = -32602


class BridgeError(JsonRpcException):
    """An error the client should show the user as it is: the message names the problem."""

    def __init__(self, code: ErrorCode, message: str, data: Any | None = None) -> None:
        super().__init__(message=message, code=int(code), data=data)


def is_notification_method(method: str) -> bool:
    """Whether LSP defines `method` as a notification (one that takes no id)."""
    kinds = types.METHOD_TO_TYPES.get(method)
    return kinds is not None and kinds[1] is None


class RawResult:
    """A result already encoded as JSON, in pieces written one after another: a large
    file's text goes out as it is instead of being copied into one message body."""

    def __init__(self, *pieces: bytes | memoryview) -> None:
        self.pieces = pieces


def require(params: Any, name: str, kind: type | tuple[type, ...]) -> Any:
    """Return ``params[name]`` or raise a clear invalid-params error."""
    if not isinstance(params, dict):
        raise BridgeError(ErrorCode.INVALID_PARAMS, "params must be an object")
    if name not in params:
        raise BridgeError(ErrorCode.INVALID_PARAMS, f"missing parameter {name!r}")
    value = params[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise BridgeError(ErrorCode.INVALID_PARAMS, f"parameter {name!r} must be {names}")
    return value


class BridgeProtocol(LanguageServerProtocol):
    """LanguageServerProtocol whose custom methods skip cattrs and namedtuples.

    pygls turns every params object into nested namedtuples and every result back through
    cattrs and json: far too slow for an 80 MB notebook. Custom methods here carry plain
    dicts, and every outgoing message is encoded with orjson.
    """

    def structure_message(self, data: dict[str, Any]) -> Any:
        method = data.get("method")
        if isinstance(method, str) and self.get_message_type(method) is None:
            if "id" in data:
                return JsonRPCRequestMessage(
                    id=data["id"], method=method, jsonrpc=data["jsonrpc"],
                    params=data.get("params"),
                )
            return JsonRPCNotification(
                method=method, jsonrpc=data["jsonrpc"], params=data.get("params")
            )
        if method is None and "result" in data and "id" in data:
            if self._result_types.get(data["id"]) is None:
                self._result_types.pop(data["id"], None)
                return JsonRPCResponseMessage(
                    id=data["id"], jsonrpc=data["jsonrpc"], result=data["result"]
                )
        return super().structure_message(data)

    def _send_handler_result(self, future: Any, *, msg_id: Any) -> None:
        # A BridgeError is an answer for the user, not a fault: no traceback in the log.
        if not future.cancelled() and isinstance(future.exception(), BridgeError):
            self._request_futures.pop(msg_id, None)
            error = future.exception()
            logger.info("request %s failed: %s", msg_id, error.message)
            self._send_response(msg_id, error=error.to_response_error())
            return
        super()._send_handler_result(future, msg_id=msg_id)

    def encode_message(self, data: Any) -> bytes:
        """The JSON body of one outgoing message."""
        if isinstance(data, (JsonRPCResponseMessage, JsonRPCNotification,
                             JsonRPCRequestMessage)):
            message = {k: v for k, v in attrs.asdict(data, recurse=False).items()}
            payload = message.get("result", message.get("params"))
            if payload is None or isinstance(payload, (dict, list, str, int, float)):
                try:
                    return orjson.dumps(message)
                except TypeError:
                    pass  # an lsprotocol object inside: let cattrs unstructure it
        return orjson.dumps(self._converter.unstructure(data))

    def _send_data(self, data: Any) -> None:
        if not data:
            return
        writer = self.writer
        if not isinstance(writer, PipeWriter):
            logger.error("no transport to send %r on", type(data).__name__)
            return
        if isinstance(data, JsonRPCResponseMessage) and isinstance(data.result, RawResult):
            head = b'{"jsonrpc":"2.0","id":%b,"result":' % orjson.dumps(data.id)
            writer.write_message(head, *data.result.pieces, b"}")
            return
        try:
            body = self.encode_message(data)
        except Exception:
            logger.exception("could not encode an outgoing message")
            return
        writer.write_message(body)

    def send_partial_result(self, token: int | str, value: bytes) -> None:
        """`$/progress` with one part of a request's result (LSP partial results), its
        value already encoded."""
        if isinstance(self.writer, PipeWriter):
            head = b'{"jsonrpc":"2.0","method":"$/progress","params":{"token":%b,"value":'
            self.writer.write_message(head % orjson.dumps(token), value, b"}}")


class BridgeLanguageServerProtocol(BridgeProtocol):
    """Adds the bridge's own capabilities to the initialize result."""

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(
        self, params: types.InitializeParams
    ) -> Generator[Any, Any, types.InitializeResult]:
        self.initialization_options: Any = params.initialization_options
        result: types.InitializeResult = yield from super().lsp_initialize(params)
        experimental = result.capabilities.experimental
        if not isinstance(experimental, dict):
            experimental = {}
        experimental["nbbridge"] = {
            "protocolVersion": PROTOCOL_VERSION,
            "methods": sorted(CUSTOM_METHODS),
            "notifications": sorted(SERVER_NOTIFICATIONS),
            "serverRequests": sorted(SERVER_REQUESTS),
        }
        result.capabilities.experimental = experimental
        return result

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> Generator[Any, Any, None]:
        """Hand exit to the server's handler, which ends the loop; pygls would sys.exit()."""
        if (user_handler := self.fm.features.get(types.EXIT)) is not None:
            yield user_handler, args, None
