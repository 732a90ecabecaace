"""A real JSON-RPC client for `nbbridge serve`: LSP framing over the process's stdio pipes.

Used by the tests and the benchmarks. Requests the bridge sends to the client (such as
`kernel/input`) are answered by handlers registered in `server_request_handlers`;
notifications are collected per method and can be awaited.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

from bridge.rpc.framing import FrameReader, Oversized, PipeWriter

REPO = Path(__file__).resolve().parent.parent


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident memory so far (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise LookupError(f"no VmHWM for process {pid}")


def outputs_by_reference(notebook: dict[str, Any]) -> dict[str, Any]:
    """The notebook as a client sends it when no output changed since it was read: code
    cells with an outputs token (`codec.outputs`) go without their outputs."""
    cells = []
    for cell in notebook["cells"]:
        codec = cell.get("codec")
        token = codec.get("outputs") if isinstance(codec, dict) else None
        cells.append({key: value for key, value in cell.items()
                      if key != "outputs" or not isinstance(token, str)})
    return {**notebook, "cells": cells}


class RpcError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code: int = error.get("code", 0)
        self.message: str = error.get("message", "")
        self.data: Any = error.get("data")


class BridgeClient:
    def __init__(self, process: asyncio.subprocess.Process, output_fd: int) -> None:
        """`output_fd`: the read end of the bridge's stdout."""
        self.process = process
        assert process.stdin is not None
        # Written as Node's streams write (VS Code's client): from the caller's bytes as
        # the pipe drains; asyncio's pipe transport would first copy what the pipe does
        # not take at once (most of an 80 MB message). Read with the bridge's own frame
        # reader: a large body lands in one buffer of its size, where asyncio's stream
        # would copy every chunk twice more.
        self._writer = PipeWriter(process.stdin.transport.get_extra_info("pipe").fileno())
        self._output_fd = output_fd
        self._frames = FrameReader(max_body_bytes=1 << 40)
        self._frames.attach(output_fd)
        self._ids = itertools.count(1)
        self._pending: dict[int | str, asyncio.Future[Any]] = {}
        self.notifications: dict[str, list[Any]] = defaultdict(list)
        self._notified = asyncio.Condition()
        self.server_request_handlers: dict[str, Callable[[Any], Awaitable[Any]]] = {}
        self.notification_listeners: list[Callable[[str, Any], None]] = []
        self._answering: set[asyncio.Task[None]] = set()
        self.unmatched: list[dict[str, Any]] = []  # responses to no request of ours
        # what takes each partial result, by partialResultToken
        self._partial_results: dict[str, Callable[[Any], None]] = {}
        self._reader = asyncio.create_task(self._read_loop())
        self.initialize_result: dict[str, Any] | None = None

    @classmethod
    async def start(
        cls,
        *serve_args: str,
        env: dict[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        stderr: Any = None,
        log_level: str | None = None,
    ) -> BridgeClient:
        output_fd, bridge_stdout = os.pipe()
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bridge",
                *(["--log-level", log_level] if log_level else []), "serve", *serve_args,
                stdin=asyncio.subprocess.PIPE, stdout=bridge_stdout,
                stderr=stderr, env={**os.environ, **(env or {})}, cwd=cwd,
            )
        except BaseException:
            os.close(output_fd)
            raise
        finally:
            os.close(bridge_stdout)
        return cls(process, output_fd)

    async def initialize(self, initialization_options: Any = None,
                         **capabilities: Any) -> dict[str, Any]:
        params: dict[str, Any] = {"processId": os.getpid(), "rootUri": None,
                                  "capabilities": capabilities or {}}
        if initialization_options is not None:
            params["initializationOptions"] = initialization_options
        result = await self.request("initialize", params)
        self.notify("initialized", {})
        self.initialize_result = result
        return result  # type: ignore[no-any-return]

    async def request(self, method: str, params: Any = None, timeout: float = 120) -> Any:
        return await asyncio.wait_for(self.send_request(method, params), timeout)

    def send_request(self, method: str, params: Any = None) -> asyncio.Future[Any]:
        """Send a request now; the future gets its result."""
        msg_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        self._send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return future

    async def request_in_parts(self, method: str, params: dict[str, Any],
                               on_part: Callable[[Any], None] | None = None,
                               timeout: float = 120) -> tuple[Any, list[Any]]:
        """A request with a `partialResultToken`: its result, and the value of every
        `$/progress` sent for that token before it, in order (each also handed to
        `on_part` as it comes)."""
        token = f"parts-{next(self._ids)}"
        parts: list[Any] = []

        def take(value: Any) -> None:
            parts.append(value)
            if on_part is not None:
                on_part(value)

        self._partial_results[token] = take
        try:
            result = await self.request(method, {**params, "partialResultToken": token},
                                        timeout)
        finally:
            del self._partial_results[token]
        return result, parts

    async def deserialize_in_parts(self, params: dict[str, Any]) -> tuple[Any, int]:
        """`notebook/deserialize` as the VS Code extension asks for it: cells may come
        in partial results, before those of the reply. Returns the whole result and how
        many parts came."""
        result, parts = await self.request_in_parts("notebook/deserialize", params)
        cells = [cell for part in parts for cell in part["cells"]]
        result["notebook"]["cells"] = cells + result["notebook"]["cells"]
        return result, len(parts)

    async def serialize_in_parts(self, params: dict[str, Any]) -> tuple[Any, int]:
        """`notebook/serialize` as the VS Code extension asks for it: the file may come in
        partial results, before the reply's own. Returns the whole result and how many
        parts came."""
        result, parts = await self.request_in_parts("notebook/serialize", params)
        member = "contentBase64" if params.get("encoding") == "base64" else "content"
        result[member] = "".join(part[member] for part in parts) + result[member]
        return result, len(parts)

    async def request_message(self, message: dict[str, Any], timeout: float = 60) -> Any:
        """Send a request object as given (its own id, possibly odd params); return the
        whole response message, result or error."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[message["id"]] = future
        self._send(message)
        try:
            result = await asyncio.wait_for(future, timeout)
        except RpcError as exc:
            return {"id": message["id"], "error": {"code": exc.code, "message": exc.message}}
        return {"id": message["id"], "result": result}

    async def request_raw(self, msg_id: int | str, body: bytes, timeout: float = 60) -> Any:
        """Send a request body exactly as given (its id `msg_id`); return its result."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        self.send_raw(body)
        return await asyncio.wait_for(future, timeout)

    def notify(self, method: str, params: Any = None) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def send_raw(self, body: bytes) -> None:
        """Send one framed body as is (for malformed-input tests)."""
        self._writer.write_message(body)

    async def close_input(self) -> None:
        """Close the bridge's stdin once everything sent has gone into the pipe (the
        editor went away)."""
        await self._writer.drained()
        assert self.process.stdin is not None
        self.process.stdin.close()

    def _send(self, message: dict[str, Any]) -> None:
        self.send_raw(orjson.dumps(message))

    async def wait_for_notification(
        self, method: str, predicate: Callable[[Any], bool] = lambda _: True,
        timeout: float = 60,
    ) -> Any:
        async def find() -> Any:
            async with self._notified:
                while True:
                    for params in self.notifications[method]:
                        if predicate(params):
                            return params
                    await self._notified.wait()
        return await asyncio.wait_for(find(), timeout)

    async def _read_loop(self) -> None:
        try:
            while (body := await self._frames.next_frame()) is not None:
                assert not isinstance(body, Oversized)
                message = orjson.loads(body)
                del body
                await self._handle(message)
                del message  # a large result is the caller's alone: freed once it is done
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("the bridge closed its output"))

    async def _handle(self, message: dict[str, Any]) -> None:
        if "method" in message and "id" in message:
            task = asyncio.create_task(self._answer(message))
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)
        elif (message.get("method") == "$/progress"
              and (token := message["params"].get("token")) in self._partial_results):
            self._partial_results[token](message["params"].get("value"))
        elif "method" in message:
            for listener in self.notification_listeners:
                listener(message["method"], message.get("params"))
            async with self._notified:
                self.notifications[message["method"]].append(message.get("params"))
                self._notified.notify_all()
        else:
            msg_id = message.get("id")
            future = self._pending.pop(msg_id, None) if isinstance(msg_id, (int, str)) else None
            if future is None or future.done():
                self.unmatched.append(message)
                return
            if "error" in message:
                future.set_exception(RpcError(message["error"]))
            else:
                future.set_result(message.get("result"))

    async def _answer(self, message: dict[str, Any]) -> None:
        handler = self.server_request_handlers.get(message["method"])
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message["id"]}
        if handler is None:
            if message["method"] in ("workspace/configuration",):
                reply["result"] = [None for _ in message["params"].get("items", [])]
            elif message["method"].startswith(("client/", "window/")):
                reply["result"] = None
            else:
                reply["error"] = {"code": -32601, "message": "no handler in the test client"}
        else:
            try:
                reply["result"] = await handler(message.get("params"))
            except RpcError as exc:
                reply["error"] = {"code": exc.code, "message": exc.message}
            except Exception as exc:
                reply["error"] = {"code": -32603, "message": str(exc)}
        self._send(reply)

    async def shutdown(self, timeout: float = 30) -> int:
        """Polite shutdown and exit; returns the process's exit code."""
        if self.process.returncode is None:
            try:
                await self.request("shutdown", None, timeout=timeout)
                self.notify("exit")
            except (TimeoutError, ConnectionError, RpcError):
                pass
        try:
            code = await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.process.kill()
            code = await self.process.wait()
        self._reader.cancel()
        if self._output_fd >= 0:  # a test may shut down before its fixture does
            self._frames.detach()
            os.close(self._output_fd)
            self._output_fd = -1
        return code
