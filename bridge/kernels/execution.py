"""One cell run on a kernel: Jupyter messages in, output operations out.

Output operations (documented in docs/protocol.md, folded by outputs.apply_output_op):
  {"op": "append", "output": <nbformat output>, "displayId"?: str}
  {"op": "appendText", "name": "stdout"|"stderr", "text": str}
  {"op": "replace", "displayId": str, "output": <display_data output>}
  {"op": "clear"}
clear_output(wait=True) is resolved here: the clear is sent just before the next output of
the cell, so a client never shows an empty cell in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from nbformat.v4 import new_output as _new_output

from bridge.kernels.channels import KernelChannels
from bridge.kernels.outputs import output_from_message

logger = logging.getLogger(__name__)

KERNEL_DIED_ENAME = "KernelDied"
INTERRUPTED_ENAME = "Interrupted"


def new_output(output_type: str, **fields: Any) -> dict[str, Any]:
    """A validated nbformat output, as a plain dict."""
    return dict(_new_output(output_type, **fields))  # type: ignore[no-untyped-call]


def now_ms() -> float:
    return time.time() * 1000.0


def interrupted_output() -> dict[str, Any]:
    """The error an interrupted cell gets when its kernel reports none (R, bash answer
    an interrupt with status `abort` and no error)."""
    text = "the cell was interrupted"
    return new_output("error", ename=INTERRUPTED_ENAME, evalue=text,
                      traceback=[f"{INTERRUPTED_ENAME}: {text}"])


def kernel_died_output(reason: str) -> dict[str, Any]:
    """The error output a cell gets when its kernel dies under it."""
    return new_output("error", ename=KERNEL_DIED_ENAME, evalue=reason,
                      traceback=[f"{KERNEL_DIED_ENAME}: {reason}"])


class Execution:
    """State of one execute_request until its reply and its idle status have both come."""

    def __init__(self, code: str, execution_id: str,
                 on_output: Callable[[dict[str, Any]], None],
                 on_input: Callable[[str, bool], Awaitable[str]] | None,
                 stop_on_error: bool, interrupt: Callable[[], Awaitable[None]],
                 iopub_filter: Callable[[dict[str, Any]], bool] | None = None,
                 request_metadata: dict[str, Any] | None = None) -> None:
        self.code = code
        # says which cell of which notebook this is (JupyterLab's cellId; the kernel
        # host journals it under that name)
        self.request_metadata = request_metadata
        self.execution_id = execution_id
        self.on_output = on_output
        self.on_input = on_input
        self.stop_on_error = stop_on_error
        self._interrupt = interrupt  # how a declined input() stops the waiting cell
        # sees each iopub message first and takes those that are not the cell's outputs
        # (comm traffic, output an Output widget captures: bridge.kernels.comms)
        self._iopub_filter = iopub_filter
        self._channels: KernelChannels | None = None
        self.aborted = False
        self.interrupted = False  # set by the session when it interrupts this cell
        self._errored = False  # the kernel sent an error output
        self.msg_id = ""
        self.started_at: float | None = None
        self._reply: dict[str, Any] | None = None
        self._idle = False
        self._clear_pending = False
        self._done: asyncio.Future[dict[str, Any]] | None = None
        self._input_task: asyncio.Task[None] | None = None

    def aborted_result(self) -> dict[str, Any]:
        return {"status": "aborted", "executionCount": None, "startedAt": None,
                "endedAt": now_ms()}

    def send(self, channels: KernelChannels) -> None:
        """Send the execute_request on `channels`; ``finish`` then waits for its end."""
        self._channels = channels
        self._done = asyncio.get_running_loop().create_future()
        content = {
            "code": self.code, "silent": False, "store_history": True,
            "user_expressions": {}, "allow_stdin": self.on_input is not None,
            # the bridge aborts queued cells itself; the kernel must not abort anything else
            "stop_on_error": False,
        }
        self.msg_id = channels.send("shell", "execute_request", content, self.on_message,
                                    metadata=self.request_metadata)

    def observe(self, channels: KernelChannels, msg_id: str) -> asyncio.Future[dict[str, Any]]:
        """Follow an execute_request sent by someone else (another client of the kernel
        host, or this bridge before it restarted): its messages come to `on_message`;
        the future gets the result `finish` would return."""
        self._channels = channels
        self._done = asyncio.get_running_loop().create_future()
        self.msg_id = msg_id
        return self._done

    def ask_input(self, prompt: str, password: bool) -> None:
        """Ask the client for an input() the kernel requested before this execution was
        followed here."""
        if self.on_input is not None and self._input_task is None:
            self._input_task = asyncio.create_task(self._answer_input(prompt, password))

    async def finish(self) -> dict[str, Any]:
        assert self._done is not None and self._channels is not None, "send() first"
        try:
            return await self._done
        finally:
            # output from threads the cell started may still come: keep it flowing
            self._channels.retire(self.msg_id)
            if self._input_task is not None:
                self._input_task.cancel()

    def finish_abnormally(self, output: dict[str, Any] | None) -> None:
        """End now: with an error output (kernel died) or as aborted (restart, shutdown)."""
        if self._done is None or self._done.done():
            self.aborted = True
            return
        if output is not None:
            self.on_output({"op": "append", "output": output})
        result = self.aborted_result()
        result["status"] = "error" if output is not None else "aborted"
        result["startedAt"] = self.started_at
        self._done.set_result(result)

    # ------------------------------------------------------------ messages
    def on_message(self, channel: str, msg: dict[str, Any]) -> None:
        msg_type = msg["header"]["msg_type"]
        if channel == "iopub":
            self._on_iopub(msg_type, msg)
        elif channel == "shell" and msg_type == "execute_reply":
            self._reply = msg["content"]
            self._finish_if_complete()
        elif channel == "stdin" and msg_type == "input_request" \
                and self.on_input is not None:
            content = msg["content"]
            self._input_task = None  # a new request: the earlier one was answered
            self.ask_input(str(content.get("prompt", "")), bool(content.get("password", False)))

    def _on_iopub(self, msg_type: str, msg: dict[str, Any]) -> None:
        if self._iopub_filter is not None and self._iopub_filter(msg):
            return
        content = msg["content"]
        if msg_type == "stream":
            self._emit({"op": "appendText", "name": content["name"], "text": content["text"]})
        elif msg_type in ("display_data", "execute_result", "error"):
            self._errored = self._errored or msg_type == "error"
            op: dict[str, Any] = {"op": "append", "output": output_from_message(msg)}
            display_id = (content.get("transient") or {}).get("display_id")
            if display_id:
                op["displayId"] = display_id
            self._emit(op)
        elif msg_type == "update_display_data":
            display_id = (content.get("transient") or {}).get("display_id")
            if display_id:
                output = output_from_message({"header": {"msg_type": "display_data"},
                                              "content": content})
                self.on_output({"op": "replace", "displayId": display_id,
                                "output": output})
        elif msg_type == "clear_output":
            if content.get("wait"):
                self._clear_pending = True
            else:
                self._clear_pending = False
                self.on_output({"op": "clear"})
        elif msg_type == "status":
            state = content.get("execution_state")
            if state == "busy" and self.started_at is None:
                self.started_at = now_ms()
            elif state == "idle":
                self._idle = True
                self._finish_if_complete()

    def _emit(self, op: dict[str, Any]) -> None:
        if self._clear_pending:
            self._clear_pending = False
            self.on_output({"op": "clear"})
        self.on_output(op)

    def _finish_if_complete(self) -> None:
        if self._reply is None or not self._idle:
            return
        if self._done is None or self._done.done():
            return
        status = self._reply.get("status", "error")
        if status == "abort":
            status = "aborted"
        if status not in ("ok", "error", "aborted"):
            status = "error"
        if self.interrupted and status != "ok":
            # every kernel's interrupted cell ends the same way: an error, the kernel's own
            # where it sent one
            if not self._errored:
                self._emit({"op": "append", "output": interrupted_output()})
            status = "error"
        self._done.set_result({
            "status": status,
            "executionCount": self._reply.get("execution_count"),
            "startedAt": self.started_at if self.started_at is not None else now_ms(),
            "endedAt": now_ms(),
        })

    # --------------------------------------------------------------- input
    async def _answer_input(self, prompt: str, password: bool) -> None:
        assert self.on_input is not None
        try:
            value = await self.on_input(prompt, password)
            if not isinstance(value, str):
                raise TypeError(f"input value must be a string, got {type(value).__name__}")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self._done is None or self._done.done():
                return  # the cell is over: an interrupt now would hit the next one
            # the client declined: interrupt the waiting input() instead of hanging the cell
            logger.info("execution %s: input() not answered (%s); interrupting",
                        self.execution_id, exc)
            with contextlib.suppress(Exception):
                await self._interrupt()
            return
        if self._channels is not None:
            self._channels.send("stdin", "input_reply", {"value": value})
