"""Comms: the Jupyter comm messages (comm_open, comm_msg, comm_close) between a kernel and
its client, for any comm target, and what the bridge keeps of the widget models among them.

Comm messages a cell's run sends reach the client in order with that run's outputs (the
run's own filter hands them over); those the kernel sends in answer to a client's comm
message go with that message's outputs; any other (a timer's, a thread's after the run was
forgotten) through the channels' fallback. The bridge keeps each ipywidgets model's state
as the messages of both sides set it: that is what `metadata.widgets` is written from, and
how an Output widget's capture works without a browser (as nbclient does it: output whose
parent is the Output widget's `msg_id` goes into the widget, not the cell).
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable
from typing import Any

from bridge.kernels.channels import KernelChannels, request
from bridge.kernels.execution import Execution, now_ms
from bridge.kernels.outputs import apply_output_op, output_from_message

logger = logging.getLogger(__name__)

COMM_TYPES = frozenset({"comm_open", "comm_msg", "comm_close"})
WIDGET_TARGET = "jupyter.widget"
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
OUTPUT_MODEL = "OutputModel"
COMM_INFO_TIMEOUT = 10.0

CommSink = Callable[[dict[str, Any]], None]
"""Gets each comm message for the client, as a Jupyter message dict (buffers as bytes)."""


class WidgetModel:
    """One ipywidgets model: its state and binary buffers (by their path in the state)."""

    def __init__(self, comm_id: str, protocol_version: str) -> None:
        self.comm_id = comm_id
        self.state: dict[str, Any] = {}
        self.buffers: dict[tuple[str | int, ...], bytes] = {}
        self.protocol_version = protocol_version
        self.pending_clear = False  # an Output widget's clear_output(wait=True)
        # key -> msg_id of the last update this side sent for it: the kernel's echoes of
        # earlier ones are stale (ipywidgets' own frontends skip them the same way)
        self.expected_echo: dict[str, str] = {}

    def echo(self, state: dict[str, Any], paths: list[Any], buffers: list[bytes],
             parent_id: str) -> None:
        """An echo_update: the kernel's value for keys another frontend set."""
        fresh = {}
        for key, value in state.items():
            expected = self.expected_echo.get(key)
            if expected is None:
                fresh[key] = value
            elif expected == parent_id:
                del self.expected_echo[key]
        kept = [(path, data) for path, data in zip(paths, buffers, strict=False)
                if isinstance(path, list) and path and path[0] in fresh]
        self.update(fresh, [path for path, _ in kept], [data for _, data in kept])

    def update(self, state: dict[str, Any], paths: list[Any], buffers: list[bytes]) -> None:
        for key in state:
            # a key set anew loses the buffers it had
            self.buffers = {path: data for path, data in self.buffers.items()
                            if not path or path[0] != key}
        self.state.update(state)
        for path, data in zip(paths, buffers, strict=False):
            if isinstance(path, list) and path:
                self.buffers[tuple(path)] = bytes(data)

    @property
    def is_output(self) -> bool:
        return bool(self.state.get("_model_name") == OUTPUT_MODEL)

    def saved(self) -> dict[str, Any]:
        """This model's entry in the widget-state+json `state`."""
        entry: dict[str, Any] = {
            "model_name": self.state.get("_model_name"),
            "model_module": self.state.get("_model_module"),
            "model_module_version": self.state.get("_model_module_version"),
            "state": self.state,
        }
        if self.buffers:
            entry["buffers"] = [{"path": list(path), "encoding": "base64",
                                 "data": base64.b64encode(data).decode("ascii")}
                                for path, data in self.buffers.items()]
        return entry


class KernelComms:
    """The comms of one kernel process: the widget models, Output widgets capturing, and
    where comm messages that belong to no run go."""

    def __init__(self) -> None:
        self.models: dict[str, WidgetModel] = {}
        self.targets: dict[str, str] = {}  # comm_id -> target_name, for every open comm
        self._capturing: dict[str, str] = {}  # parent msg_id -> Output widget's comm_id
        self._channels: KernelChannels | None = None
        self._runs: set[CommRun] = set()
        self.unrouted: CommSink | None = None  # set by whoever speaks for the client

    def attach(self, channels: KernelChannels) -> None:
        """A new kernel process on `channels`: no comm of the old one survives."""
        self.reset()
        self._channels = channels
        channels.set_fallback(self._on_unrouted)

    def reset(self) -> None:
        self.models.clear()
        self.targets.clear()
        self._capturing.clear()
        self._channels = None
        self.abort_runs()

    def abort_runs(self) -> None:
        """The kernel is gone: no client comm message waits for it any more."""
        for run in list(self._runs):
            run.finish_abnormally(None)
        self._runs.clear()

    # ------------------------------------------------------------ from the kernel
    def filter(self, deliver: CommSink | None) -> Callable[[dict[str, Any]], bool]:
        """The iopub filter of one run: comm messages are recorded and go to `deliver`;
        output an Output widget captures goes into it. True for what the filter took."""
        def take(msg: dict[str, Any]) -> bool:
            return self.take(msg, deliver)
        return take

    def take(self, msg: dict[str, Any], deliver: CommSink | None) -> bool:
        msg_type = msg["header"].get("msg_type")
        if msg_type in COMM_TYPES:
            self._record(msg_type, msg["content"], msg.get("buffers") or [],
                         (msg.get("parent_header") or {}).get("msg_id", ""))
            if deliver is not None:
                deliver(msg)
            return True
        parent = (msg.get("parent_header") or {}).get("msg_id", "")
        comm_id = self._capturing.get(parent)
        model = self.models.get(comm_id) if comm_id is not None else None
        if model is None or msg_type not in _CAPTURED:
            return False
        self._capture(model, msg_type, msg, deliver)
        return True

    def _on_unrouted(self, channel: str, msg: dict[str, Any]) -> None:
        if channel == "iopub":
            self.take(msg, self.unrouted)

    def _record(self, msg_type: str, content: dict[str, Any], buffers: list[bytes],
                parent_id: str = "") -> None:
        comm_id = str(content.get("comm_id", ""))
        data = content.get("data") or {}
        if msg_type == "comm_open":
            target = str(content.get("target_name", ""))
            self.targets[comm_id] = target
            if target == WIDGET_TARGET and isinstance(data.get("state"), dict):
                version = str((content.get("metadata") or {}).get("version", ""))
                model = WidgetModel(comm_id, version)
                model.update(data["state"], data.get("buffer_paths") or [], buffers)
                self.models[comm_id] = model
                self._note_capture(model)
        elif msg_type == "comm_close":
            self.targets.pop(comm_id, None)
            if self.models.pop(comm_id, None) is not None:
                self._capturing = {k: v for k, v in self._capturing.items() if v != comm_id}
        elif msg_type == "comm_msg":
            known = self.models.get(comm_id)
            state = data.get("state")
            if known is None or not isinstance(state, dict):
                return
            paths = data.get("buffer_paths") or []
            if data.get("method") == "update":
                known.update(state, paths, buffers)
            elif data.get("method") == "echo_update":
                known.echo(state, paths, buffers, parent_id)
            if "msg_id" in state:
                self._note_capture(known)

    def _note_capture(self, model: WidgetModel) -> None:
        if not model.is_output:
            return
        self._capturing = {k: v for k, v in self._capturing.items() if v != model.comm_id}
        msg_id = model.state.get("msg_id")
        if isinstance(msg_id, str) and msg_id:
            self._capturing[msg_id] = model.comm_id

    def _capture(self, model: WidgetModel, msg_type: str, msg: dict[str, Any],
                 deliver: CommSink | None) -> None:
        """One output message into an Output widget; the kernel and the client both get
        the widget's new outputs, as a browser's widget manager would send them."""
        outputs: list[dict[str, Any]] = list(model.state.get("outputs") or [])
        content = msg["content"]
        if msg_type == "clear_output":
            if content.get("wait"):
                model.pending_clear = True
                return
            outputs = []
        else:
            if model.pending_clear:
                model.pending_clear = False
                outputs = []
            if msg_type == "stream":
                op = {"op": "appendText", "name": content.get("name", "stdout"),
                      "text": content.get("text", "")}
            else:
                op = {"op": "append", "output": output_from_message(msg)}
            # the widget's list is its own (the kernel's copy is replaced, never edited)
            outputs = [dict(output) for output in outputs]
            apply_output_op(outputs, op)
        state: dict[str, Any] = {"outputs": outputs}
        update = {"method": "update", "state": state, "buffer_paths": []}
        model.update(state, [], [])
        if self._channels is not None:
            # its echo is not for the client, which gets the update itself below
            sent = self._channels.send("shell", "comm_msg",
                                       {"comm_id": model.comm_id, "data": update},
                                       _swallow)
            self._channels.retire(sent)
            model.expected_echo["outputs"] = sent
        if deliver is not None:
            deliver(synthetic_comm_msg(model.comm_id, update))

    # -------------------------------------------------------------- from the client
    def send(self, msg_type: str, content: dict[str, Any], buffers: list[bytes],
             on_output: Callable[[dict[str, Any]], None] | None,
             deliver: CommSink | None) -> CommRun:
        """Send a client's comm message; the kernel's outputs in handling it go to
        `on_output` (output operations), its comm messages to `deliver`. `finish()` on
        the run returned waits until the kernel has handled it."""
        if msg_type not in COMM_TYPES:
            raise ValueError(f"not a comm message type: {msg_type!r}")
        if self._channels is None:
            raise RuntimeError("the kernel is not connected")
        self._record(msg_type, content, buffers)
        run = CommRun(msg_type, content, buffers, on_output or _ignore,
                      self.filter(deliver), self._runs)
        run.send(self._channels)
        model = self.models.get(str(content.get("comm_id", "")))
        data = content.get("data") or {}
        if model is not None and msg_type == "comm_msg" and data.get("method") == "update":
            for key in data.get("state") or {}:
                model.expected_echo[key] = run.msg_id
        return run

    async def comm_info(self, target_name: str | None) -> dict[str, Any]:
        """The kernel's comm_info_reply content: its open comms (of one target)."""
        if self._channels is None:
            raise RuntimeError("the kernel is not connected")
        content = {} if target_name is None else {"target_name": target_name}
        reply = await request(self._channels, "shell", "comm_info_request", content,
                              COMM_INFO_TIMEOUT)
        result: dict[str, Any] = reply["content"]
        return result

    def widget_state(self, model_ids: set[str] | None = None) -> dict[str, Any]:
        """application/vnd.jupyter.widget-state+json of the live models (or those of
        `model_ids` among them), as notebook metadata.widgets holds it."""
        return {"version_major": 2, "version_minor": 0, "state": {
            comm_id: model.saved() for comm_id, model in self.models.items()
            if model_ids is None or comm_id in model_ids}}


_CAPTURED = frozenset({"stream", "display_data", "execute_result", "error", "clear_output"})


def _ignore(op: dict[str, Any]) -> None:
    pass


def _swallow(channel: str, msg: dict[str, Any]) -> None:
    pass


async def _no_interrupt() -> None:
    pass


def synthetic_comm_msg(comm_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """A comm_msg as if from the kernel (the bridge speaks for a widget manager)."""
    return {"header": {"msg_type": "comm_msg", "msg_id": ""}, "msg_type": "comm_msg",
            "parent_header": {}, "metadata": {},
            "content": {"comm_id": comm_id, "data": data}, "buffers": []}


class CommRun(Execution):
    """A client's comm message handled by the kernel: its outputs are folded like a cell's
    until the kernel goes idle again (there is no reply on shell)."""

    def __init__(self, msg_type: str, content: dict[str, Any], buffers: list[bytes],
                 on_output: Callable[[dict[str, Any]], None],
                 iopub_filter: Callable[[dict[str, Any]], bool],
                 runs: set[CommRun]) -> None:
        super().__init__("", "", on_output, None, False, _no_interrupt, iopub_filter)
        self._msg_type = msg_type
        self._content = content
        self._buffers = buffers
        self._runs = runs

    def send(self, channels: KernelChannels) -> None:
        self._channels = channels
        self._done = asyncio.get_running_loop().create_future()
        self._done.add_done_callback(lambda _: self._runs.discard(self))
        self._runs.add(self)
        self.msg_id = channels.send("shell", self._msg_type, self._content, self.on_message,
                                    buffers=self._buffers)

    def _finish_if_complete(self) -> None:
        if self._idle and self._done is not None and not self._done.done():
            self._done.set_result({"status": "ok", "executionCount": None,
                                   "startedAt": self.started_at, "endedAt": now_ms()})


def comm_params(msg: dict[str, Any]) -> dict[str, Any]:
    """A comm message as `kernel/comm` carries it (buffers base64)."""
    parent = (msg.get("parent_header") or {}).get("msg_id") or None
    return {"msgType": msg["header"].get("msg_type"), "parentMsgId": parent,
            "content": msg["content"],
            "metadata": msg.get("metadata") or {},
            "buffers": [base64.b64encode(bytes(b)).decode("ascii")
                        for b in msg.get("buffers") or []]}
