"""Comms through a real `nbbridge serve` and a real ipykernel: both ways, with buffers, in
order with the cells' outputs, and the widget models the bridge keeps of them."""

from __future__ import annotations

import base64
import textwrap
import uuid
from typing import Any

import pytest

from bridge_client import BridgeClient, RpcError
from kernel_helpers import new_execution_id, ops_of, outputs_from, run, wait_until

pytestmark = pytest.mark.asyncio(loop_scope="module")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def comms_of(client: BridgeClient, comm_id: str) -> list[dict[str, Any]]:
    return [note for note in client.notifications["kernel/comm"]
            if note["content"].get("comm_id") == comm_id]


def timeline(client: BridgeClient) -> list[tuple[str, Any]]:
    """Every kernel/output and kernel/comm notification from now on, in arrival order."""
    events: list[tuple[str, Any]] = []

    def listen(method: str, params: Any) -> None:
        if method in ("kernel/output", "kernel/comm"):
            events.append((method, params))

    client.notification_listeners.append(listen)
    return events


ECHO_TARGET = textwrap.dedent("""
    def _echo_target(comm, open_msg):
        comm.send({"opened": open_msg["content"]["data"]},
                  buffers=[bytes(b)[::-1] for b in open_msg["buffers"]])
        @comm.on_msg
        def _on(msg):
            print("got", msg["content"]["data"]["n"])
            comm.send({"echo": msg["content"]["data"]},
                      buffers=[bytes(b)[::-1] for b in msg["buffers"]])
    get_ipython().kernel.comm_manager.register_target("echo", _echo_target)
""")


async def test_comm_round_trip_with_buffers(module_bridge: BridgeClient,
                                            kernel: dict[str, Any]) -> None:
    kernel_id = kernel["kernelId"]
    assert (await run(module_bridge, kernel_id, ECHO_TARGET)).status == "ok"
    comm_id = uuid.uuid4().hex
    sent = await module_bridge.request("kernel/sendComm", {
        "kernelId": kernel_id, "msgType": "comm_open",
        "content": {"comm_id": comm_id, "target_name": "echo", "data": {"hello": 1}},
        "buffers": [b64(b"\x00\x01\x02abc")]})
    assert isinstance(sent["msgId"], str)
    await wait_until(lambda: len(comms_of(module_bridge, comm_id)) >= 1)
    opened = comms_of(module_bridge, comm_id)[0]
    assert opened["msgType"] == "comm_msg"
    assert opened["content"]["data"] == {"opened": {"hello": 1}}
    assert opened["buffers"] == [b64(b"cba\x02\x01\x00")]

    execution_id = new_execution_id()
    sent = await module_bridge.request("kernel/sendComm", {
        "kernelId": kernel_id, "msgType": "comm_msg", "executionId": execution_id,
        "msgId": "client-own-id", "content": {"comm_id": comm_id, "data": {"n": 5}},
        "buffers": [b64(bytes(range(256))), b64(b"xy")]})
    # answered once the kernel handled it: its answer and its print came before
    assert len(comms_of(module_bridge, comm_id)) == 2
    echoed = comms_of(module_bridge, comm_id)[1]
    assert echoed["executionId"] == execution_id
    assert echoed["parentMsgId"] == "client-own-id" != sent["msgId"]
    assert echoed["content"]["data"] == {"echo": {"n": 5}}
    assert echoed["buffers"] == [b64(bytes(range(256))[::-1]), b64(b"yx")]
    # what the kernel printed in handling it goes to the executionId the client gave
    assert outputs_from(ops_of(module_bridge, execution_id)) == [
        {"output_type": "stream", "name": "stdout", "text": "got 5\n"}]

    info = await module_bridge.request("kernel/commInfo",
                                       {"kernelId": kernel_id, "targetName": "echo"})
    assert info["comms"] == {comm_id: {"target_name": "echo"}}
    await module_bridge.request("kernel/sendComm", {
        "kernelId": kernel_id, "msgType": "comm_close",
        "content": {"comm_id": comm_id, "data": {}}})
    closed = await run(module_bridge, kernel_id,
                       "print(len(get_ipython().kernel.comm_manager.comms))")
    info = await module_bridge.request("kernel/commInfo",
                                       {"kernelId": kernel_id, "targetName": "echo"})
    assert info["comms"] == {}, closed.text()


async def test_kernel_opened_comm_reaches_the_client_with_its_cell(
        module_bridge: BridgeClient, kernel: dict[str, Any]) -> None:
    cell = await run(module_bridge, kernel["kernelId"], textwrap.dedent("""
        from comm import create_comm
        print("before")
        c = create_comm(target_name="client.target", data={"k": "v"}, buffers=[b"\\xff\\x00"])
        c.send({"x": 1}, buffers=[memoryview(b"raw")])
        print("after")
        c.close()
    """))
    assert cell.status == "ok", cell.outputs
    notes = [note for note in module_bridge.notifications["kernel/comm"]
             if note["executionId"] == cell.execution_id]
    assert [note["msgType"] for note in notes] == ["comm_open", "comm_msg", "comm_close"]
    assert notes[0]["content"]["target_name"] == "client.target"
    assert notes[0]["content"]["data"] == {"k": "v"}
    assert notes[0]["buffers"] == [b64(b"\xff\x00")]
    assert notes[1]["buffers"] == [b64(b"raw")]
    assert cell.text() == "before\nafter\n"


async def test_bad_comm_requests_are_named(module_bridge: BridgeClient,
                                           kernel: dict[str, Any]) -> None:
    base = {"kernelId": kernel["kernelId"], "content": {"comm_id": "c", "data": {}}}
    with pytest.raises(RpcError, match="msgType") as bad_type:
        await module_bridge.request("kernel/sendComm", {**base, "msgType": "execute_request"})
    assert bad_type.value.code == -32602
    with pytest.raises(RpcError, match="base64"):
        await module_bridge.request("kernel/sendComm", {**base, "msgType": "comm_msg",
                                                        "buffers": ["not base64!"]})
    with pytest.raises(RpcError, match="comm_id"):
        await module_bridge.request("kernel/sendComm", {**base, "msgType": "comm_msg",
                                                        "content": {"data": {}}})
    with pytest.raises(RpcError) as unknown:
        await module_bridge.request("kernel/sendComm", {**base, "kernelId": "nope",
                                                        "msgType": "comm_msg"})
    assert unknown.value.code == -32010


async def test_comm_messages_of_two_cells_interleaved_keep_order(
        module_bridge: BridgeClient, kernel: dict[str, Any]) -> None:
    kernel_id = kernel["kernelId"]
    # cell 1's thread and cell 2 send on two comms at once; one counter numbers the sends
    first = await run(module_bridge, kernel_id, textwrap.dedent("""
        import itertools, threading, time
        from comm import create_comm
        _counter, _lock = itertools.count(), threading.Lock()
        def _send(comm, n):
            for _ in range(n):
                with _lock:
                    comm.send({"seq": next(_counter)})
                time.sleep(0.002)
        comm_a = create_comm(target_name="order.a")
        _thread = threading.Thread(target=_send, args=(comm_a, 60))
        _thread.start()
    """))
    second = await run(module_bridge, kernel_id, textwrap.dedent("""
        comm_b = create_comm(target_name="order.b")
        _send(comm_b, 60)
        _thread.join()
        print("done")
    """))
    assert first.status == second.status == "ok"
    assert second.text() == "done\n"

    def seqs() -> list[int]:
        return [note["content"]["data"]["seq"] for note in module_bridge.notifications[
            "kernel/comm"] if "seq" in (note["content"].get("data") or {})]

    await wait_until(lambda: len(seqs()) >= 120)
    assert seqs() == list(range(120))


async def test_widget_heavy_cell_keeps_outputs_and_comms_in_order(
        module_bridge: BridgeClient, kernel: dict[str, Any]) -> None:
    events = timeline(module_bridge)
    cell = await run(module_bridge, kernel["kernelId"], textwrap.dedent("""
        import ipywidgets as widgets
        from IPython.display import display
        for i in range(40):
            print(f"line {i}", flush=True)  # else stdout waits for the display
            display(widgets.IntSlider(value=i))
    """))
    assert cell.status == "ok", cell.outputs
    seen: list[tuple[str, Any]] = []
    views: dict[str, int] = {}  # model id -> its slider's value
    for method, params in events:
        if params.get("executionId") != cell.execution_id:
            continue
        if method == "kernel/comm":
            state = (params["content"].get("data") or {}).get("state") or {}
            if params["msgType"] == "comm_open" and state.get("_model_name") == \
                    "IntSliderModel":
                views[params["content"]["comm_id"]] = state["value"]
                seen.append(("slider", state["value"]))
            continue
        for op in params["ops"]:
            if op["op"] == "appendText":
                seen.extend(("text", line) for line in op["text"].splitlines())
            elif op["op"] == "append":
                view = op["output"]["data"]["application/vnd.jupyter.widget-view+json"]
                seen.append(("view", views[view["model_id"]]))
    expected = [event for i in range(40)
                for event in (("text", f"line {i}"), ("slider", i), ("view", i))]
    assert seen == expected
    # nothing lost from the cell's own outputs either
    outputs = outputs_from(cell.ops)
    assert sum(o["output_type"] == "display_data" for o in outputs) == 40
    assert cell.text() == "".join(f"line {i}\n" for i in range(40))


async def test_slider_set_by_the_client_runs_its_observer(
        module_bridge: BridgeClient, kernel: dict[str, Any]) -> None:
    kernel_id = kernel["kernelId"]
    cell = await run(module_bridge, kernel_id, textwrap.dedent("""
        import ipywidgets as widgets
        slider = widgets.IntSlider(value=1)
        slider.observe(lambda change: print("value is", change["new"]), names="value")
        slider
    """))
    view = cell.outputs[-1]["data"]["application/vnd.jupyter.widget-view+json"]
    model_id = view["model_id"]
    callback_id = new_execution_id()
    await module_bridge.request("kernel/sendComm", {
        "kernelId": kernel_id, "msgType": "comm_msg", "executionId": callback_id,
        "content": {"comm_id": model_id, "data": {
            "method": "update", "state": {"value": 7}, "buffer_paths": []}}})
    assert outputs_from(ops_of(module_bridge, callback_id)) == [
        {"output_type": "stream", "name": "stdout", "text": "value is 7\n"}]
    check = await run(module_bridge, kernel_id, "print(slider.value)")
    assert check.text() == "7\n"
    state = await module_bridge.request("kernel/widgetState", {"kernelId": kernel_id})
    assert state["version_major"] == 2
    saved = state["state"][model_id]
    assert saved["model_name"] == "IntSliderModel"
    assert saved["model_module"] == "@jupyter-widgets/controls"
    assert saved["state"]["value"] == 7


async def test_output_widget_captures_print_and_clear_output(
        module_bridge: BridgeClient, kernel: dict[str, Any]) -> None:
    kernel_id = kernel["kernelId"]
    cell = await run(module_bridge, kernel_id, textwrap.dedent("""
        import ipywidgets as widgets
        from IPython.display import display, clear_output
        out = widgets.Output()
        display(out)
        with out:
            print("gone soon")
        with out:
            clear_output()
            print("inside")
            display({"text/plain": "shown inside"}, raw=True)
        print("outside")
    """))
    assert cell.status == "ok", cell.outputs
    assert cell.text() == "outside\n"
    assert [o["output_type"] for o in cell.outputs] == ["display_data", "stream"]
    model_id = cell.outputs[0]["data"]["application/vnd.jupyter.widget-view+json"][
        "model_id"]
    expected = [{"output_type": "stream", "name": "stdout", "text": "inside\n"},
                {"output_type": "display_data", "metadata": {},
                 "data": {"text/plain": "shown inside"}}]
    state = await module_bridge.request("kernel/widgetState", {"kernelId": kernel_id})
    assert state["state"][model_id]["state"]["outputs"] == expected
    # the kernel's widget holds the same outputs, as a browser would have set them
    check = await run(module_bridge, kernel_id, f"print(list(out.outputs) == {expected!r})")
    assert check.text() == "True\n"
    # and the client saw the widget's outputs change, as comm updates
    updates = [note["content"]["data"]["state"]["outputs"]
               for note in comms_of(module_bridge, model_id)
               if "outputs" in (note["content"]["data"].get("state") or {})]
    assert updates[-1] == expected


async def test_output_widget_captures_a_button_callback(
        module_bridge: BridgeClient, kernel: dict[str, Any]) -> None:
    kernel_id = kernel["kernelId"]
    cell = await run(module_bridge, kernel_id, textwrap.dedent("""
        import ipywidgets as widgets
        out2 = widgets.Output()
        button = widgets.Button(description="go")
        @out2.capture(clear_output=True)
        def clicked(b):
            print("clicked")
        button.on_click(clicked)
        display(button, out2)
    """))
    views = [o["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
             for o in cell.outputs if o["output_type"] == "display_data"]
    button_id, out_id = views
    callback_id = new_execution_id()
    for _ in range(2):
        await module_bridge.request("kernel/sendComm", {
            "kernelId": kernel_id, "msgType": "comm_msg", "executionId": callback_id,
            "content": {"comm_id": button_id,
                        "data": {"method": "custom", "content": {"event": "click"}}}})
    clicked = [{"output_type": "stream", "name": "stdout", "text": "clicked\n"}]

    def updates() -> list[Any]:
        return [note["content"]["data"]["state"]["outputs"]
                for note in comms_of(module_bridge, out_id)
                if note["content"]["data"].get("method") == "update"
                and "outputs" in note["content"]["data"]["state"]]

    # each click clears the widget, then prints into it
    await wait_until(lambda: updates() == [[], clicked, [], clicked])
    # the kernel got those updates before this cell, sent after them
    check = await run(module_bridge, kernel_id, "print(list(out2.outputs))")
    assert check.text() == str([{"output_type": "stream", "name": "stdout",
                                 "text": "clicked\n"}]) + "\n"
    # captured into the widget, never to the callback's own outputs
    assert not [op for op in ops_of(module_bridge, callback_id) if op["op"] != "clear"]
    state = await module_bridge.request("kernel/widgetState", {"kernelId": kernel_id})
    assert state["state"][out_id]["state"]["outputs"] == [
        {"output_type": "stream", "name": "stdout", "text": "clicked\n"}]
