"""Random and malformed traffic at the kernel host's socket: the host never dies, every
well-framed request is answered, and a kernel it runs goes on working."""

from __future__ import annotations

import asyncio
import os
import struct
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.kernels.host.frames import control_frame, kernel_frame, read_frame
from bridge.kernels.host.place import SOCKET_NAME

from host.host_helpers import Hosted
from kernels.kernel_helpers import pid_alive, run

EXAMPLES = int(os.environ.get("NBBRIDGE_FUZZ_EXAMPLES", "2000")) // 10

leaves = (st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False)
          | st.text(max_size=30))
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=8)
# exit and start only get params that cannot be valid (no host exit, no kernel launched)
METHODS = ["hello", "subscribe", "unsubscribe", "attach", "find", "pair", "relaunch",
           "interrupt", "said", "shutdown", "list", "exit", "start"]
PARAM_NAMES = ["kernelId", "notebookUri", "afterSeq", "now", "spec", "specName"]


@st.composite
def control(draw: st.DrawFn) -> bytes:
    method = draw(st.sampled_from(METHODS) | st.text(max_size=20) | values)
    if method in ("exit", "start"):
        params: Any = draw(st.text(max_size=5) | st.integers(-(2**63), 2**63 - 1))
    else:
        params = draw(values | st.dictionaries(st.sampled_from(PARAM_NAMES), values,
                                               max_size=4))
    return control_frame({"id": draw(values), "method": method, "params": params})


@st.composite
def kernel_message(draw: st.DrawFn) -> bytes:
    msg = {"header": draw(values | st.fixed_dictionaries({
        "msg_type": st.sampled_from(["execute_request", "input_reply", "comm_msg", "x"]),
        "msg_id": st.text(max_size=8)})),
        "parent_header": {}, "metadata": draw(values), "content": draw(values)}
    if not isinstance(msg["header"], dict):
        msg["header"] = {"msg_type": "x"}
    return kernel_frame(draw(st.text(max_size=36)), None,
                        draw(st.sampled_from(["shell", "stdin", "control", "iopub", "x"])),
                        msg)


garbage = st.one_of(
    st.binary(max_size=200),
    st.binary(max_size=60).map(lambda b: struct.pack("!I", len(b)) + b),
    st.just(struct.pack("!I", 0)), st.just(struct.pack("!I", 2**31)),
    values.map(lambda v: (lambda d: struct.pack("!I", len(d)) + d)(b"J" + orjson.dumps(v))),
)


async def exchange(path: str, frames: list[bytes], tail: bytes | None) -> int:
    """Send the frames (and maybe garbage), count the replies that come back."""
    reader, writer = await asyncio.open_unix_connection(path)
    writer.write(b"".join(frames) + (tail or b""))
    writer.write_eof()  # the host answers what it got, then closes
    await writer.drain()
    replies = 0
    try:
        while True:
            frame = await asyncio.wait_for(read_frame(reader), 30)
            if frame is None:
                break
            if isinstance(frame, dict) and ("result" in frame or "error" in frame):
                replies += 1
    except (ConnectionError, ValueError):
        pass
    writer.close()
    return replies


async def test_the_host_survives_random_traffic(hosted: Hosted) -> None:
    bridge = await hosted.bridge()
    started = await bridge.request("kernel/start", {"notebookUri": "file:///tmp/fuzz.ipynb"})
    host = started["hostPid"]
    path = str(hosted.folder / SOCKET_NAME)
    batches: list[tuple[list[bytes], bytes | None]] = []

    @settings(max_examples=max(1, EXAMPLES), deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(control(), min_size=1, max_size=5), st.lists(kernel_message(), max_size=3),
           garbage | st.none())
    def collect(controls: list[bytes], kernel: list[bytes], tail: bytes | None) -> None:
        batches.append((controls + kernel, tail))

    collect()
    answered = 0
    for frames, tail in batches:
        controls = [f for f in frames if f[4:5] == b"J"]
        replies = await exchange(path, frames, tail)
        if tail is None:
            # every request of a well-framed batch is answered
            assert replies >= len(controls)
        answered += replies
        assert pid_alive(host)
    assert answered > len(batches)
    # the host and its kernel still work, for the bridge that was there all along
    assert pid_alive(host) and pid_alive(started["pid"])
    assert (await run(bridge, started["kernelId"], "print(6 * 7)")).text() == "42\n"
