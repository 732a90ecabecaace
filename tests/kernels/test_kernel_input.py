"""input() and getpass() in a cell ask the client with a kernel/input request."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bridge_client import BridgeClient, RpcError
from kernel_helpers import run

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_input_asks_the_client(module_bridge: BridgeClient,
                                     kernel: dict[str, Any]) -> None:
    asked: list[dict[str, Any]] = []

    async def answer(params: dict[str, Any]) -> dict[str, Any]:
        asked.append(params)
        return {"value": "Ada"}

    module_bridge.server_request_handlers["kernel/input"] = answer
    cell = await run(module_bridge, kernel["kernelId"],
                     "print('hello'); name = input('Name? '); print('hi', name)")
    assert cell.status == "ok"
    assert [(a["prompt"], a["password"]) for a in asked] == [("Name? ", False)]
    assert asked[0]["kernelId"] == kernel["kernelId"]
    assert asked[0]["executionId"] == cell.execution_id
    assert "hi Ada\n" in cell.text()
    # the output printed before the prompt reached the client before the prompt did
    assert cell.text().startswith("hello\n")


async def test_getpass_is_a_password_prompt(module_bridge: BridgeClient,
                                            kernel: dict[str, Any]) -> None:
    asked: list[dict[str, Any]] = []

    async def answer(params: dict[str, Any]) -> dict[str, Any]:
        asked.append(params)
        return {"value": "s3cret"}

    module_bridge.server_request_handlers["kernel/input"] = answer
    cell = await run(module_bridge, kernel["kernelId"],
                     "import getpass\nsecret = getpass.getpass('Token: ')\nlen(secret)")
    assert cell.status == "ok"
    assert [(a["prompt"], a["password"]) for a in asked] == [("Token: ", True)]
    assert cell.outputs[-1]["data"]["text/plain"] == "6"
    assert "s3cret" not in str(cell.ops)


async def test_a_declined_prompt_interrupts_the_cell(module_bridge: BridgeClient,
                                                     kernel: dict[str, Any]) -> None:
    async def decline(params: dict[str, Any]) -> dict[str, Any]:
        raise RpcError({"code": -32800, "message": "cancelled by the user"})

    module_bridge.server_request_handlers["kernel/input"] = decline
    cell = await run(module_bridge, kernel["kernelId"], "x = input('?')\nprint('never')",
                     timeout=60)
    assert cell.status == "error"
    assert cell.outputs[-1]["ename"] == "KeyboardInterrupt"
    assert "never" not in cell.text()
    after = await run(module_bridge, kernel["kernelId"], "'still fine'")
    assert after.status == "ok"


async def test_several_prompts_in_one_cell(module_bridge: BridgeClient,
                                           kernel: dict[str, Any]) -> None:
    answers = iter(["1", "2", "3"])

    async def answer(params: dict[str, Any]) -> dict[str, Any]:
        return {"value": next(answers)}

    module_bridge.server_request_handlers["kernel/input"] = answer
    cell = await run(module_bridge, kernel["kernelId"],
                     "sum(int(input(f'n{i}: ')) for i in range(3))")
    assert cell.outputs[-1]["data"]["text/plain"] == "6"


async def test_an_interrupted_prompt_is_cancelled_at_the_client(
        module_bridge: BridgeClient, kernel: dict[str, Any]) -> None:
    asked = asyncio.Event()
    released = asyncio.Event()

    async def never_answer(params: dict[str, Any]) -> dict[str, Any]:
        asked.set()
        await released.wait()
        return {"value": "too late"}

    module_bridge.server_request_handlers["kernel/input"] = never_answer
    cancels = len(module_bridge.notifications["$/cancelRequest"])
    cell = asyncio.create_task(run(module_bridge, kernel["kernelId"], "input('waiting? ')"))
    await asyncio.wait_for(asked.wait(), 30)
    await module_bridge.request("kernel/interrupt", {"kernelId": kernel["kernelId"]})
    assert (await asyncio.wait_for(cell, 30)).status == "error"
    await module_bridge.wait_for_notification(
        "$/cancelRequest", lambda _: len(module_bridge.notifications["$/cancelRequest"])
        > cancels, timeout=30)
    released.set()  # a late answer to a cancelled prompt is ignored
    assert (await run(module_bridge, kernel["kernelId"], "'ok'")).status == "ok"
