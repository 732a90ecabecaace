"""The bridge's protocol object: pygls's LanguageServerProtocol with a fast path for
custom methods, which carry plain dicts (see bridge.rpc.contract) instead of lsprotocol
types, and every outgoing message encoded with orjson onto the wire's writer."""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import Any

import attrs
import orjson
from lsprotocol import types
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    LanguageServerProtocol,
    lsp_method,
)

from bridge.errors import BridgeError
from bridge.rpc.contract import (
    CUSTOM_METHODS,
    PROTOCOL_VERSION,
    SERVER_NOTIFICATIONS,
    SERVER_REQUESTS,
    RawResult,
)
from bridge.rpc.framing import MessageWriter

logger = logging.getLogger(__name__)


def is_notification_method(method: str) -> bool:
    """Whether LSP defines `method` as a notification (one that takes no id)."""
    kinds = types.METHOD_TO_TYPES.get(method)
    return kinds is not None and kinds[1] is None


class BridgeProtocol(LanguageServerProtocol):
    """LanguageServerProtocol whose custom methods skip cattrs and namedtuples, which
    are far too slow for a large notebook's params and results."""

    wire: MessageWriter | None = None
    initialization_options: Any = None

    def attach(self, wire: MessageWriter) -> None:
        """Send every outgoing message on `wire`."""
        self.wire = wire

    async def drained(self) -> None:
        """Wait until every message sent so far has been written to the client."""
        if self.wire is not None:
            await self.wire.drained()

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
        writer = self.wire
        if writer is None:
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
        if self.wire is not None:
            head = b'{"jsonrpc":"2.0","method":"$/progress","params":{"token":%b,"value":'
            self.wire.write_message(head % orjson.dumps(token), value, b"}}")


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
