"""Running cells through a real `nbbridge serve` and reading back what the client got."""

from __future__ import annotations

import asyncio
import itertools
import os
from typing import Any

from bridge.kernels.outputs import DisplayIndex, apply_output_op

from bridge_client import BridgeClient

_ids = itertools.count(1)


def new_execution_id() -> str:
    return f"exec-{os.getpid()}-{next(_ids)}"


def ops_of(client: BridgeClient, execution_id: str) -> list[dict[str, Any]]:
    """Every output op the client received for one execution, in arrival order."""
    return [op for note in client.notifications["kernel/output"]
            if note["executionId"] == execution_id for op in note["ops"]]


def notes_of(client: BridgeClient, execution_id: str) -> list[dict[str, Any]]:
    return [note for note in client.notifications["kernel/output"]
            if note["executionId"] == execution_id]


def outputs_from(ops: list[dict[str, Any]],
                 displays: DisplayIndex | None = None) -> list[dict[str, Any]]:
    outputs: list[dict[str, Any]] = []
    for op in ops:
        apply_output_op(outputs, op, displays)
    return outputs


class Cell:
    """The result of one kernel/execute and the outputs the client folded from its ops."""

    def __init__(self, client: BridgeClient, execution_id: str, result: dict[str, Any],
                 displays: DisplayIndex | None) -> None:
        self.execution_id = execution_id
        self.result = result
        self.ops = ops_of(client, execution_id)
        self.outputs = outputs_from(self.ops, displays)

    @property
    def status(self) -> str:
        return str(self.result["status"])

    def text(self, name: str = "stdout") -> str:
        return "".join(o["text"] for o in self.outputs
                       if o["output_type"] == "stream" and o["name"] == name)


async def run(client: BridgeClient, kernel_id: str, code: str,
              displays: DisplayIndex | None = None, timeout: float = 120,
              **extra: Any) -> Cell:
    execution_id = extra.pop("executionId", None) or new_execution_id()
    result = await client.request("kernel/execute", {
        "kernelId": kernel_id, "code": code, "executionId": execution_id, **extra,
    }, timeout=timeout)
    return Cell(client, execution_id, result, displays)


async def queue(client: BridgeClient, kernel_id: str, code: str,
                timeout: float = 120, **extra: Any) -> asyncio.Task[Cell]:
    """Send a cell and return once the bridge has put it in the kernel's queue.

    The bridge takes up requests in the order they arrive, and a kernel/execute is in
    its kernel's queue before its handler first waits; so once a request sent after it
    is answered, the cell is queued.
    """
    execution_id = extra.pop("executionId", None) or new_execution_id()
    sent = client.send_request("kernel/execute", {
        "kernelId": kernel_id, "code": code, "executionId": execution_id, **extra})
    await client.request("kernel/specs", {})

    async def finished() -> Cell:
        result = await asyncio.wait_for(sent, timeout)
        return Cell(client, execution_id, result, None)

    return asyncio.create_task(finished())


async def sleeping(client: BridgeClient, kernel_id: str, marker: str = "up",
                   timeout: float = 120) -> asyncio.Task[Cell]:
    """A cell that prints `marker` and sleeps a minute, returned once the marker is out:
    the cell is running in the kernel then, not only queued."""
    running = await queue(client, kernel_id,
                          f"import time; print({marker!r}, flush=True); time.sleep(60)",
                          timeout=timeout)
    await client.wait_for_notification(
        "kernel/output", lambda n: any(op.get("text") == f"{marker}\n" for op in n["ops"]))
    return running


async def start_kernel(client: BridgeClient, **params: Any) -> dict[str, Any]:
    started: dict[str, Any] = await client.request("kernel/start", params)
    return started


async def wait_until(predicate: Any, timeout: float = 30, every: float = 0.05) -> None:
    """Poll ``predicate`` until true (a generous deadline, not a speed check)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if predicate():
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"condition not met within {timeout} s")
        await asyncio.sleep(every)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie has exited; it only waits to be reaped by its parent
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False
