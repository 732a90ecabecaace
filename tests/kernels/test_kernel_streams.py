"""A million printed lines reach the client complete, in order, in few notifications."""

from __future__ import annotations

from typing import Any

import pytest

from bridge_client import BridgeClient
from kernel_helpers import notes_of, run

pytestmark = pytest.mark.asyncio(loop_scope="module")

LINES = 1_000_000


async def test_a_million_lines_complete_in_order(module_bridge: BridgeClient,
                                                 kernel: dict[str, Any]) -> None:
    cell = await run(module_bridge, kernel["kernelId"],
                     f"for i in range({LINES}): print(i)", timeout=300)
    assert cell.status == "ok"
    assert [o["output_type"] for o in cell.outputs] == ["stream"]
    text = cell.text()
    assert text == "".join(f"{i}\n" for i in range(LINES))
    notifications = len(notes_of(module_bridge, cell.execution_id))
    # bounded by the flush rate, not by the line count
    assert notifications < 400, notifications


async def test_interleaved_stdout_and_stderr_keep_their_order(
        module_bridge: BridgeClient, kernel: dict[str, Any]) -> None:
    code = ("import sys\n"
            "for i in range(300):\n"
            "    print('out', i, flush=True)\n"
            "    print('err', i, file=sys.stderr, flush=True)\n")
    cell = await run(module_bridge, kernel["kernelId"], code)
    assert cell.text("stdout") == "".join(f"out {i}\n" for i in range(300))
    assert cell.text("stderr") == "".join(f"err {i}\n" for i in range(300))
    # merging only joins neighbours of one stream: no output switches name midway
    assert all(o["output_type"] == "stream" for o in cell.outputs)
