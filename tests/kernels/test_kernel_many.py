"""Many notebooks, many kernels: 20 kernels running at once lose and reorder nothing."""

from __future__ import annotations

import asyncio

import pytest

from bridge_client import BridgeClient
from kernel_helpers import pid_alive, run, wait_until

KERNELS = 20
LINES = 3000


@pytest.mark.timeout(600)
async def test_twenty_kernels_at_once(bridge: BridgeClient) -> None:
    started = await asyncio.gather(*(
        bridge.request("kernel/start", {"notebookUri": f"untitled:Untitled-{i}.ipynb"},
                       timeout=300)
        for i in range(KERNELS)))
    assert len({k["kernelId"] for k in started}) == KERNELS
    assert len({k["pid"] for k in started}) == KERNELS

    async def busy(index: int, kernel_id: str) -> None:
        code = (f"import sys\nfor i in range({LINES}):\n"
                f"    print('k{index}', i)\n"
                f"    if i % 1000 == 0: print('e{index}', i, file=sys.stderr)\n"
                f"display({{'text/plain': 'k{index} done'}}, raw=True)\n"
                f"{index} * 2\n")
        for round_ in range(2):
            cell = await run(bridge, kernel_id, code, timeout=300)
            assert cell.status == "ok", (index, cell.result)
            assert cell.result["executionCount"] == round_ + 1
            assert cell.text() == "".join(f"k{index} {i}\n" for i in range(LINES))
            assert cell.text("stderr") == "".join(f"e{index} {i}\n"
                                                  for i in range(0, LINES, 1000))
            rich = [o for o in cell.outputs if o["output_type"] != "stream"]
            assert [o["data"]["text/plain"] for o in rich] == [f"k{index} done",
                                                               str(index * 2)]

    await asyncio.gather(*(busy(i, k["kernelId"]) for i, k in enumerate(started)))
    await asyncio.gather(*(bridge.request("kernel/shutdown", {"kernelId": k["kernelId"]},
                                          timeout=120) for k in started))
    await wait_until(lambda: not any(pid_alive(k["pid"]) for k in started), timeout=60)
