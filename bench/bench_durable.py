"""Durable kernels: output lost when a client goes away mid-cell and comes back, reattach
latency, `1+1` through the kernel host, and the host's memory.

A cell prints 30 lines over 3 s; the client goes after line 2 and a new one comes after a
gap. nbbridge: the bridge is SIGKILLed, a new one attaches (kernel/attach). Anchors, in the
same run: a second jupyter_client on the kernel's connection file, and a jupyter_server
websocket reconnecting with a new session id (a new page). Then reattach latency against a
cold kernel start, and `1+1` through the host, direct, and raw jupyter_client
(interleaved, one of each per round).

    python bench/bench_durable.py [--rounds 200] [--gaps 0.5,2,10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import queue
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import psutil
from jupyter_client.manager import AsyncKernelManager

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from bench_execute import percentile, raw_execute, raw_kernel
from remote_anchor import jupyter_server

from bridge.kernels.host.place import HostPlace, host_pid
from bridge.kernels.outputs import apply_output_op
from bridge.kernels.wire import V1_PROTOCOL, decode_v1, encode_v1

from bridge_client import BridgeClient

LINES = 30
CELL = ("import time\n"
        f"for i in range({LINES}):\n"
        "    print(f'line {i}', flush=True)\n"
        "    time.sleep(0.1)\n")
NOTEBOOK = "file:///tmp/bench-durable.ipynb"


def lines_in(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("line ")]


def lost(seen: list[str]) -> str:
    missing = LINES - len(set(seen))
    doubled = len(seen) - len(set(seen))
    return f"{missing} lost" + (f", {doubled} twice" if doubled else "")


@contextlib.asynccontextmanager
async def kernel_host() -> AsyncIterator[dict[str, str]]:
    """The env of bridges on a kernel host of this run's own; the host ends with it."""
    folder = Path(tempfile.mkdtemp(prefix="bench-host-")) / "host"
    try:
        yield {"NBBRIDGE_KERNELS": "durable", "NBBRIDGE_RUNTIME_DIR": str(folder)}
    finally:
        pid = host_pid(HostPlace(folder)) if folder.exists() else None
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


async def bridge(env: dict[str, str]) -> BridgeClient:
    client = await BridgeClient.start(env=env)
    await client.initialize()
    return client


# --------------------------------------------------------------- lost lines
async def nbbridge_gap(env: dict[str, str], gap: float) -> list[str]:
    first = await bridge(env)
    uri = f"{NOTEBOOK}?{uuid.uuid4().hex}"
    kernel_id = (await first.request("kernel/start", {"notebookUri": uri}))["kernelId"]
    execution_id = uuid.uuid4().hex
    never_answered = first.send_request("kernel/execute", {
        "kernelId": kernel_id, "code": CELL, "executionId": execution_id})
    never_answered.add_done_callback(lambda future: future.exception())
    await first.wait_for_notification("kernel/output", lambda n: "line 2\n" in "".join(
        op.get("text", "") for op in n["ops"]))
    seen_first = lines_in("".join(op.get("text", "") for n in first.notifications[
        "kernel/output"] for op in n["ops"]))
    first.process.send_signal(signal.SIGKILL)
    await first.process.wait()
    await asyncio.sleep(gap)
    second = await bridge(env)
    attached = await second.request("kernel/attach", {"notebookUri": uri})
    (entry,) = [e for e in attached["executions"] if e["executionId"] == execution_id]
    outputs = [dict(o) for o in entry["outputs"]]
    if entry["status"] == "running":
        await second.wait_for_notification(
            "kernel/executionEnded", lambda n: n["executionId"] == execution_id, timeout=60)
        later: list[dict[str, Any]] = []
        for note in second.notifications["kernel/output"]:
            if note["executionId"] == execution_id:
                for op in note["ops"]:
                    apply_output_op(later, op)
        outputs += later
    await second.request("kernel/shutdown", {"kernelId": kernel_id})
    await second.shutdown()
    journal = lines_in("".join(o.get("text", "") for o in outputs
                               if o.get("output_type") == "stream"))
    # the journal holds the lines the first bridge saw too: count each once
    return journal if journal[:len(seen_first)] == seen_first else seen_first + journal


async def connection_file_gap(gap: float) -> list[str]:
    manager = AsyncKernelManager(transport="ipc")
    await manager.start_kernel()
    try:
        first = manager.client()
        first.start_channels()
        await first.wait_for_ready(timeout=60)
        msg_id = first.execute(CELL)
        seen: list[str] = []
        while "line 2" not in seen:
            msg = await first.get_iopub_msg(timeout=30)
            if msg["msg_type"] == "stream":
                seen += lines_in(msg["content"]["text"])
        first.stop_channels()
        await asyncio.sleep(gap)
        second = manager.client()  # the same connection file
        second.start_channels()
        deadline = time.monotonic() + max(0.0, 3.5 - gap) + 2.0
        with contextlib.suppress(TimeoutError, queue.Empty):
            while time.monotonic() < deadline:
                msg = await second.get_iopub_msg(timeout=deadline - time.monotonic())
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if msg["msg_type"] == "stream":
                    seen += lines_in(msg["content"]["text"])
                if msg["msg_type"] == "status" and \
                        msg["content"]["execution_state"] == "idle":
                    break
        second.stop_channels()
        return seen
    finally:
        await manager.shutdown_kernel(now=True)


async def server_gap(url: str, token: str, gap: float) -> list[str]:
    headers = {"Authorization": f"token {token}"}
    ws_url = url.replace("http", "ws", 1)
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.post(url + "api/kernels", json={"name": "python3"}) as response:
            kernel_id = (await response.json())["id"]
        channels = f"{ws_url}api/kernels/{kernel_id}/channels"
        try:
            first = await http.ws_connect(f"{channels}?session_id={uuid.uuid4().hex}",
                                          protocols=(V1_PROTOCOL,), max_msg_size=0)
            await wait_idle(first, send(first, "pass"), 60)  # ready behind the server
            msg_id = send(first, CELL)
            seen: list[str] = []
            while "line 2" not in seen:
                seen += await stream_lines(first, msg_id, 30)
            await first.close()
            await asyncio.sleep(gap)
            # a new page: a new session id
            second = await http.ws_connect(f"{channels}?session_id={uuid.uuid4().hex}",
                                           protocols=(V1_PROTOCOL,), max_msg_size=0)
            deadline = time.monotonic() + max(0.0, 3.5 - gap) + 2.0
            with contextlib.suppress(TimeoutError):
                while time.monotonic() < deadline:
                    got = await stream_lines(second, msg_id, deadline - time.monotonic(),
                                             until_idle=True)
                    if got is IDLE:
                        break
                    seen += got
            await second.close()
            return seen
        finally:
            async with http.delete(url + f"api/kernels/{kernel_id}"):
                pass


IDLE: list[str] = []


def send(ws: aiohttp.ClientWebSocketResponse, code: str) -> str:
    msg_id = uuid.uuid4().hex
    header = {"msg_id": msg_id, "username": "bench", "session": "bench",
              "msg_type": "execute_request", "version": "5.3", "date": ""}
    asyncio.get_running_loop().create_task(ws.send_bytes(encode_v1("shell", {
        "header": header, "parent_header": {}, "metadata": {},
        "content": {"code": code, "silent": False, "store_history": True,
                    "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}})))
    return msg_id


async def stream_lines(ws: aiohttp.ClientWebSocketResponse, msg_id: str, timeout: float,
                       until_idle: bool = False) -> list[str]:
    """The lines of the next stream message of `msg_id` (IDLE at its idle status)."""
    while True:
        frame = await asyncio.wait_for(ws.receive(), timeout)
        if frame.type != aiohttp.WSMsgType.BINARY:
            raise ConnectionError(f"the kernel websocket said {frame.type}")
        _, msg = decode_v1(frame.data)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            return lines_in(msg["content"]["text"])
        if until_idle and msg["msg_type"] == "status" and \
                msg["content"]["execution_state"] == "idle":
            return IDLE


async def wait_idle(ws: aiohttp.ClientWebSocketResponse, msg_id: str, timeout: float) -> None:
    while await stream_lines(ws, msg_id, timeout, until_idle=True) is not IDLE:
        pass


# ------------------------------------------------------------------ latency
async def reattach_latency(env: dict[str, str], rounds: int) -> tuple[list[float], list[float]]:
    attach: list[float] = []
    cold: list[float] = []
    for _ in range(rounds):
        uri = f"{NOTEBOOK}?{uuid.uuid4().hex}"
        started = time.perf_counter()
        client = await bridge(env)
        kernel_id = (await client.request("kernel/start", {"notebookUri": uri}))["kernelId"]
        cold.append(time.perf_counter() - started)
        await client.request("kernel/execute", {"kernelId": kernel_id, "code": CELL,
                                                "executionId": uuid.uuid4().hex})
        client.process.send_signal(signal.SIGKILL)
        await client.process.wait()
        started = time.perf_counter()
        client = await bridge(env)
        attached = await client.request("kernel/attach", {"notebookUri": uri})
        attach.append(time.perf_counter() - started)
        assert attached["kernel"]["kernelId"] == kernel_id and attached["executions"]
        await client.request("kernel/shutdown", {"kernelId": kernel_id})
        await client.shutdown()
    return attach, cold


async def round_trips(env: dict[str, str], rounds: int, warmup: int = 20
                      ) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {"host": [], "direct": [], "raw": []}
    hosted = await bridge(env)
    direct = await bridge({"NBBRIDGE_KERNELS": "direct"})
    try:
        kernel_starts = {name: await client.request("kernel/start", {})
                   for name, client in (("host", hosted), ("direct", direct))}
        kernels = {name: result["kernelId"] for name, result in kernel_starts.items()}
        async with raw_kernel() as raw:
            for index in range(warmup + rounds):
                for name in samples:
                    started = time.perf_counter()
                    if name == "raw":
                        await raw_execute(raw, "1+1")
                    else:
                        client = hosted if name == "host" else direct
                        await client.request("kernel/execute", {
                            "kernelId": kernels[name], "code": "1+1",
                            "executionId": uuid.uuid4().hex})
                    if index >= warmup:
                        samples[name].append((time.perf_counter() - started) * 1000)
        host = psutil.Process(int(kernel_starts["host"]["hostPid"]))
        samples["host_rss"] = [host.memory_info().rss / (1 << 20)]
    finally:
        await hosted.shutdown()
        await direct.shutdown()
    return samples


# --------------------------------------------------------------------- main
async def main(rounds: int, gaps: list[float], attach_rounds: int) -> None:
    async with kernel_host() as env, jupyter_server() as (url, token):
        for gap in gaps:
            ours = await nbbridge_gap(env, gap)
            by_file = await connection_file_gap(gap)
            by_server = await server_gap(url, token, gap)
            print(f"lines lost after a {gap:g} s gap (of {LINES}): nbbridge reattach "
                  f"{lost(ours)} | connection-file reattach {lost(by_file)} | "
                  f"jupyter_server new client id {lost(by_server)} (target: 0 lost)")
        attach, cold = await reattach_latency(env, attach_rounds)
        print(f"reattach (bridge start -> kernel/attach reply with the journal): median "
              f"{statistics.median(attach) * 1000:.0f} ms | cold start (bridge start -> "
              f"kernel/start reply) {statistics.median(cold) * 1000:.0f} ms | ratio "
              f"{statistics.median(attach) / statistics.median(cold):.2f}x")
        samples = await round_trips(env, rounds)
        for label, fraction in (("p50", 0.5), ("p99", 0.99)):
            host = percentile(samples["host"], fraction)
            direct = percentile(samples["direct"], fraction)
            raw = percentile(samples["raw"], fraction)
            print(f"execute 1+1 {label}: through the kernel host {host:.2f} ms | direct "
                  f"{direct:.2f} ms | raw jupyter_client {raw:.2f} ms | host/raw "
                  f"{host / raw:.2f}x (target <= 1.15x), host/direct {host / direct:.2f}x")
        print(f"kernel host RSS with one idle kernel attached: {samples['host_rss'][0]:.0f} MiB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 200)))
    parser.add_argument("--gaps", default="0.5,2,10")
    parser.add_argument("--attach-rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, [float(g) for g in args.gaps.split(",")],
                     args.attach_rounds))
