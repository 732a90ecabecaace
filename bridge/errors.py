"""The bridge's errors: JSON-RPC error codes, the error the user is shown, and the
parameter check every request handler uses. Every package may import this module."""

from __future__ import annotations

import enum
from typing import Any

from pygls.exceptions import JsonRpcException


class ErrorCode(enum.IntEnum):
    """JSON-RPC error codes of the bridge (the -320xx server-defined range)."""

    NOT_JSON = -32001
    NOT_A_NOTEBOOK = -32002
    TOO_LARGE = -32003
    OUTPUTS_UNKNOWN = -32004
    UNKNOWN_KERNEL = -32010
    KERNEL_DEAD = -32011
    KERNEL_START_FAILED = -32012
    KERNEL_HOST_FAILED = -32013
    FILE_ERROR = -32020
    EXPORT_FAILED = -32021
    NO_CHECKPOINT = -32022
    SERVER_UNREACHABLE = -32030
    SERVER_REFUSED = -32031
    INVALID_PARAMS = -32602


class BridgeError(JsonRpcException):
    """An error the client should show the user as it is: the message names the problem."""

    def __init__(self, code: ErrorCode, message: str, data: Any | None = None) -> None:
        super().__init__(message=message, code=int(code), data=data)


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


def optional(params: dict[str, Any], name: str, kind: type) -> Any:
    """``params[name]`` checked like `require`, or None when absent or null."""
    return require(params, name, kind) if params.get(name) is not None else None
