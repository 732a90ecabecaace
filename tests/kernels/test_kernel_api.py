"""The in-process Python API (KernelRegistry / KernelSession) that `nbbridge run` and the
language features use without the server, on a real kernel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bridge.errors import BridgeError, ErrorCode
from bridge.kernels.outputs import apply_output_op
from bridge.kernels.registry import KernelRegistry
from bridge.kernels.session import KernelSession

pytestmark = pytest.mark.asyncio(loop_scope="module")

NOTEBOOK_DIR = Path(__file__).resolve().parent


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def registry() -> AsyncIterator[tuple[KernelRegistry, list[dict[str, Any]]]]:
    statuses: list[dict[str, Any]] = []
    kernels = KernelRegistry(statuses.append)
    yield kernels, statuses
    await kernels.shutdown_all()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def session(registry: tuple[KernelRegistry, list[dict[str, Any]]]) -> KernelSession:
    kernels, _ = registry
    return await kernels.start(notebook_uri=(NOTEBOOK_DIR / "some.ipynb").as_uri())


async def test_notebook_kernel_is_found_and_runs_in_its_folder(
        registry: tuple[KernelRegistry, list[dict[str, Any]]],
        session: KernelSession) -> None:
    kernels, statuses = registry
    assert kernels.for_notebook((NOTEBOOK_DIR / "some.ipynb").as_uri()) is session
    assert kernels.for_notebook("file:///elsewhere.ipynb") is None
    assert kernels.get(session.kernel_id) is session
    outputs: list[dict[str, Any]] = []
    result = await session.execute("import os; os.getcwd()", "a",
                                   lambda op: apply_output_op(outputs, op))
    assert result["status"] == "ok"
    assert outputs[0]["data"]["text/plain"] == repr(str(NOTEBOOK_DIR))
    assert statuses[0] == {"kernelId": session.kernel_id, "state": "starting"}


async def test_unknown_kernel_id(registry: tuple[KernelRegistry, list[dict[str, Any]]]
                                 ) -> None:
    kernels, _ = registry
    with pytest.raises(BridgeError) as error:
        kernels.get("missing")
    assert error.value.code == ErrorCode.UNKNOWN_KERNEL


async def test_complete_and_inspect_answer_while_a_cell_runs(
        session: KernelSession) -> None:
    await session.execute("import collections\nvalue_one = 1", "b", lambda op: None)
    started = asyncio.Event()

    def on_output(op: dict[str, Any]) -> None:
        started.set()

    running = asyncio.create_task(session.execute(
        "import time\nprint('busy', flush=True)\ntime.sleep(30)", "c", on_output))
    await asyncio.wait_for(started.wait(), 30)
    assert session.state == "busy"
    completion = await session.complete("value_o", 7, timeout=20)
    assert completion is not None and "value_one" in completion["matches"]
    inspection = await session.inspect("collections.OrderedDict", 23, 0, timeout=20)
    assert inspection is not None and inspection["found"] is True
    assert not running.done()  # answered by the subshell, not after the cell
    await session.interrupt()
    assert (await asyncio.wait_for(running, 30))["status"] == "error"


async def test_complete_on_a_dead_kernel_is_none(
        registry: tuple[KernelRegistry, list[dict[str, Any]]]) -> None:
    kernels, _ = registry
    doomed = await kernels.start()
    await kernels.shutdown(doomed.kernel_id)
    assert await doomed.complete("pri", 3, timeout=5) is None
    assert await doomed.inspect("print", 5, 0, timeout=5) is None
