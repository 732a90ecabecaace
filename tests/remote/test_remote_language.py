"""Completion and hover from a server's kernel, beside a running cell too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bridge_client import BridgeClient
from kernels.kernel_helpers import queue, run, wait_until
from language.helpers import NOTEBOOK_CAPABILITIES, Notebook, complete_until
from remote_servers import RunningServer

pytestmark = pytest.mark.asyncio(loop_scope="module")

PATIENT = {"language": {"completionDeadlineMs": 5000, "hoverDeadlineMs": 10000}}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def patient(jupyter_server: RunningServer) -> AsyncIterator[tuple[BridgeClient, str]]:
    client = await BridgeClient.start()
    await client.initialize(PATIENT, **NOTEBOOK_CAPABILITIES)
    added = await client.request("kernel/servers/add", {"url": jupyter_server.url,
                                                        "token": jupyter_server.token})
    yield client, added["serverId"]
    await client.shutdown()


async def test_completion_and_hover_come_from_the_remote_kernel(
        patient: tuple[BridgeClient, str], tmp_path: Path) -> None:
    client, server_id = patient
    notebook = Notebook(client, tmp_path / "remote.ipynb",
                        ["remote_only_name = 1", "remote_on"], ["python", "python"])
    kernel = await client.request("kernel/start", {"serverId": server_id,
                                                   "notebookUri": notebook.uri})
    kid = kernel["kernelId"]
    try:
        assert (await run(client, kid, "remote_only_name = 1")).status == "ok"
        await complete_until(notebook, 1, "remote_only_name", source="kernel")
        # ipykernel has subshells: the kernel answers beside a running cell
        long = await queue(client, kid, "import time; time.sleep(30)")
        await wait_until(lambda: any(s["kernelId"] == kid and s["state"] == "busy"
                                     for s in client.notifications["kernel/status"]))
        notebook.edit(1, "remote_o")
        await complete_until(notebook, 1, "remote_only_name", source="kernel")
        assert not long.done()
        hover = await notebook.hover(0, 0, 3)
        assert hover is not None and "int" in str(hover["contents"])
        await client.request("kernel/interrupt", {"kernelId": kid})
        await long
    finally:
        await client.request("kernel/shutdown", {"kernelId": kid})
