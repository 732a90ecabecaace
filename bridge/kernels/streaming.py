"""One way to run a cell: its outputs streamed to the client as `kernel/output`
notifications, folded into a list of nbformat outputs, or both.

Every front end that runs code (the kernel/execute request, the script commands, the
headless runner) goes through `run_streamed`.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, Protocol

from lsprotocol.types import CANCEL_REQUEST, CancelParams

from bridge.kernels.batching import OutputBatcher
from bridge.kernels.comms import CommSink, comm_params
from bridge.kernels.outputs import DisplayIndex, apply_output_op
from bridge.kernels.session import InputCallback, KernelSession, OutputCallback
from bridge.rpc.contract import KERNEL_COMM, KERNEL_EXECUTION_ENDED, KERNEL_INPUT, KERNEL_OUTPUT


class Rpc(Protocol):
    """What the kernel features need of the server's protocol object."""

    def notify(self, method: str, params: Any | None = None) -> None: ...

    def send_request_async(self, method: str, params: Any | None = None,
                           msg_id: str | None = None) -> Any: ...


async def run_streamed(
    session: KernelSession, code: str, execution_id: str, *,
    rpc: Rpc | None = None, outputs: list[dict[str, Any]] | None = None,
    displays: DisplayIndex | None = None, ask_input: bool = False,
    stop_on_error: bool = True, cell_id: str | None = None,
) -> dict[str, Any]:
    """Run `code` after the cells queued before it on `session`; returns the execution's
    result (status, executionCount, startedAt, endedAt).

    With `rpc`, outputs go to the client as batched `kernel/output` notifications (all
    sent before this returns) and, with `ask_input`, input() prompts as `kernel/input`
    requests. With `outputs`, they are folded into that list (display ids resolved
    through `displays`, which may span several cells).
    """
    head = {"kernelId": session.kernel_id, "executionId": execution_id}
    batcher, on_output, on_input = _streams(session, head, rpc, outputs, displays, ask_input)
    on_comm = None if rpc is None else comm_notifier(rpc, head, batcher)
    try:
        return await session.execute(code, execution_id, on_output, on_input, stop_on_error,
                                     on_comm, cell_id=cell_id)
    finally:
        if batcher is not None:
            batcher.close()  # every output notification goes out before the response


def follow_streamed(session: KernelSession, msg_id: str, execution_id: str, rpc: Rpc,
                    pending_input: dict[str, Any] | None = None, cell_id: str | None = None
                    ) -> asyncio.Task[dict[str, Any]]:
    """Stream a cell that someone else sent (this bridge before a restart, another
    client of the kernel host) as `run_streamed` streams its own; its end comes as a
    `kernel/executionEnded` notification. Follows at once (call it before the held
    channels are released); the task gets the result. Its notifications carry the run's
    `cellId`, so a client that did not send it knows which cell shows it."""
    head: dict[str, Any] = {"kernelId": session.kernel_id, "executionId": execution_id}
    if cell_id is not None:
        head["cellId"] = cell_id
    batcher, on_output, on_input = _streams(session, head, rpc, None, None, True)
    followed = session.follow(msg_id, execution_id, on_output, on_input, pending_input,
                              comm_notifier(rpc, head, batcher))

    async def ended() -> dict[str, Any]:
        try:
            result = await followed
        finally:
            if batcher is not None:
                batcher.close()
        rpc.notify(KERNEL_EXECUTION_ENDED, {**head, **result, "seq": session.seq})
        return result

    return asyncio.create_task(ended())


def _streams(session: KernelSession, head: dict[str, Any], rpc: Rpc | None,
             outputs: list[dict[str, Any]] | None, displays: DisplayIndex | None,
             ask_input: bool) -> tuple[OutputBatcher | None, OutputCallback,
                                       InputCallback | None]:
    """Where one execution's outputs and input() prompts go: batched `kernel/output`
    notifications (numbered with the kernel message they came from), an outputs list."""
    last_seq = [session.seq]
    batcher = None if rpc is None else OutputBatcher(
        lambda ops: rpc.notify(KERNEL_OUTPUT, {**head, "ops": ops, "seq": last_seq[0]}))
    folded_displays: DisplayIndex = {} if displays is None else displays

    def on_output(op: dict[str, Any]) -> None:
        last_seq[0] = session.seq
        if outputs is not None:
            apply_output_op(outputs, op, folded_displays)
        if batcher is not None:
            batcher.add(op)

    on_input: InputCallback | None = None
    if ask_input and rpc is not None:
        async def on_input(prompt: str, password: bool) -> str:
            if batcher is not None:
                batcher.flush()  # the prompt's own output must be on screen first
            return await _ask_client(rpc, {**head, "prompt": prompt, "password": password})

    return batcher, on_output, on_input


def comm_notifier(rpc: Rpc, head: dict[str, Any], batcher: OutputBatcher | None = None,
                  parent_names: dict[str, str] | None = None) -> CommSink:
    """Comm messages as `kernel/comm` notifications, after the outputs that came before
    them (the batcher's pending ones are sent first); `parent_names` gives the client's
    own id of a message the bridge sent for it."""
    def on_comm(msg: dict[str, Any]) -> None:
        if batcher is not None:
            batcher.flush()
        params = comm_params(msg)
        if parent_names:
            params["parentMsgId"] = parent_names.get(params["parentMsgId"],
                                                     params["parentMsgId"])
        rpc.notify(KERNEL_COMM, {**head, **params})
    return on_comm


async def send_comm_streamed(session: KernelSession, msg_type: str, content: dict[str, Any],
                             buffers: list[bytes], execution_id: str | None,
                             client_msg_id: str | None, rpc: Rpc) -> str:
    """Send a client's comm message and return once the kernel has handled it; what the
    kernel prints or sends back meanwhile goes to the client as `kernel/output` and
    `kernel/comm` under `execution_id`. Returns the message's msg_id."""
    head = {"kernelId": session.kernel_id, "executionId": execution_id}
    batcher = None if execution_id is None else OutputBatcher(
        lambda ops: rpc.notify(KERNEL_OUTPUT, {**head, "ops": ops}))
    names: dict[str, str] = {}
    run = session.comms.send(
        msg_type, content, buffers,
        on_output=None if batcher is None else batcher.add,
        deliver=comm_notifier(rpc, head, batcher, names))
    if client_msg_id is not None:
        names[run.msg_id] = client_msg_id
    try:
        await run.finish()
    finally:
        if batcher is not None:
            batcher.close()
    return run.msg_id


async def _ask_client(rpc: Rpc, params: dict[str, Any]) -> str:
    """The value the client answers a `kernel/input` request with."""
    request_id = f"input-{uuid.uuid4()}"
    try:
        reply = await rpc.send_request_async(KERNEL_INPUT, params, msg_id=request_id)
    except asyncio.CancelledError:
        # the cell stopped waiting (interrupt, restart, death): close the prompt
        rpc.notify(CANCEL_REQUEST, CancelParams(id=request_id))
        raise
    value = reply.get("value") if isinstance(reply, dict) else None
    if not isinstance(value, str):
        raise ValueError("kernel/input result has no string 'value'")
    return value
