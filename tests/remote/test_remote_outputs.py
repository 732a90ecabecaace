"""The same cells on a local kernel and on a server's kernel fold to the same outputs."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.kernels.outputs import DisplayIndex

from bridge_client import BridgeClient
from kernels.kernel_helpers import run
from remote_servers import RunningServer

pytestmark = pytest.mark.asyncio(loop_scope="module")

CELLS = [
    "print('a'); print('b', end='')\nimport sys; print('err', file=sys.stderr); print('c')",
    "from IPython.display import display, update_display, clear_output, HTML\n"
    "display('first', display_id='d1')\nprint('between')\n"
    "update_display('updated', display_id='d1')",
    "for i in range(5):\n    clear_output(wait=True)\n    print(f'step {i}')",
    "display(HTML('<b>bold</b>'), metadata={'isolated': True})\n"
    "import base64\nfrom IPython.display import Image\n"
    "Image(data=base64.b64decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlE'"
    "'QVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='))",
    "print('x' * 100_000)",
    "1/0",
    "{'k': [1, 2, 3]}",
]


async def outputs_of(client: BridgeClient, kernel_id: str) -> list[Any]:
    displays: DisplayIndex = {}
    folded = []
    for code in CELLS:
        cell = await run(client, kernel_id, code, displays=displays, stopOnError=False)
        folded.append((cell.status, cell.result.get("executionCount"), cell.outputs))
    return folded


async def test_local_and_remote_fold_alike(remote_bridge: tuple[BridgeClient, str],
                                          server: RunningServer) -> None:
    client, server_id = remote_bridge
    local = await client.request("kernel/start", {})
    remote = await client.request("kernel/start", {"serverId": server_id})
    try:
        here = await outputs_of(client, local["kernelId"])
        there = await outputs_of(client, remote["kernelId"])
    finally:
        for started in (local, remote):
            await client.request("kernel/shutdown", {"kernelId": started["kernelId"]})
    assert [status for status, _, _ in here] == ["ok"] * 5 + ["error", "ok"]
    assert there == here
