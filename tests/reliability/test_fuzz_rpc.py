"""Random and malformed JSON-RPC messages at `nbbridge serve`: every request is answered,
the bridge never dies, and a valid request afterwards still works."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge_client import BridgeClient

EXAMPLES = int(os.environ.get("NBBRIDGE_FUZZ_EXAMPLES", "2000"))

# Methods that would end the session, or start kernels and write files when their
# params happen to be valid, get only bogus params below.
GUARDED = {"kernel/start", "notebook/export", "notebook/checkpoint", "workspace/executeCommand"}
METHODS = [
    "notebook/deserialize", "notebook/serialize", "kernel/specs", "kernel/execute",
    "kernel/interrupt", "kernel/restart", "kernel/shutdown", "textDocument/completion",
    "textDocument/hover", "textDocument/signatureHelp", "completionItem/resolve",
    "notebookDocument/didOpen", "notebookDocument/didChange", "textDocument/didOpen",
    "textDocument/didChange", "$/cancelRequest", "$/setTrace", *sorted(GUARDED),
]
PARAM_NAMES = ["content", "notebook", "kernelId", "code", "executionId", "kernelName",
               "notebookUri", "cwd", "textDocument", "position", "cells", "uri", "to",
               "format", "path", "action", "command", "arguments", "id", "notebookDocument"]

leaves = (st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats(allow_nan=False)
          | st.text(max_size=40))
values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                  max_size=4),
    max_leaves=10,
)
big = st.sampled_from(["x" * 1_000_000, "{" * 100_000, '{"cells": [' * 1000, "\U0001F600" * 50_000])
params = (values | big | st.dictionaries(st.sampled_from(PARAM_NAMES), values | big,
                                         max_size=5))
position = st.fixed_dictionaries({
    "textDocument": st.fixed_dictionaries({"uri": st.text(max_size=30)}),
    "position": st.fixed_dictionaries({"line": st.integers(-5, 2**40),
                                       "character": st.integers(-5, 2**40)}),
})
bogus_kernel = st.fixed_dictionaries({
    "kernelId": st.text(max_size=30), "code": st.text(max_size=30),
    "executionId": st.text(max_size=10)})


@st.composite
def request(draw: st.DrawFn) -> dict[str, Any]:
    method = draw(st.sampled_from(METHODS) | st.text(max_size=30))
    if method in GUARDED:
        chosen = draw(values.filter(lambda v: not isinstance(v, dict)))
    elif method.startswith("textDocument/"):
        chosen = draw(position | params)
    elif method.startswith("kernel/"):
        chosen = draw(bogus_kernel | params)
    else:
        chosen = draw(params)
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if draw(st.booleans()):
        message["params"] = chosen
    return message


malformed = st.one_of(
    st.binary(max_size=200),  # bad UTF-8, random bytes
    st.just(b'{"jsonrpc": "2.0", "id": 1, "method": "notebook/deser'),
    values.map(orjson.dumps),  # JSON, but not a request object
    st.builds(lambda v: orjson.dumps({"jsonrpc": "2.0", "id": v, "method": 7}), values),
)

counter = itertools.count(1)


class Session:
    def __init__(self, cwd: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.client = self.loop.run_until_complete(BridgeClient.start(cwd=cwd))
        self.loop.run_until_complete(self.client.initialize())
        self.requests = 0
        self.malformed = 0

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def alive(self) -> bool:
        return self.client.process.returncode is None


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    running = Session(tmp_path_factory.mktemp("fuzz-cwd"))
    yield running
    running.run(running.client.shutdown())
    running.loop.close()


BATCH = 25


@settings(max_examples=max(1, EXAMPLES // BATCH), deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck), database=None)
@given(batch=st.lists(st.tuples(request(), st.integers(0, 3), malformed | st.none()),
                      min_size=BATCH, max_size=BATCH))
def test_every_random_request_gets_an_answer(
    session: Session, batch: list[tuple[dict[str, Any], int, bytes | None]],
) -> None:
    requests = []
    for message, kind, raw in batch:
        if raw is not None:
            session.client.send_raw(raw)
            session.malformed += 1
        if kind == 0:
            session.client.send_raw(orjson.dumps(message))  # as a notification
        else:
            message["id"] = f"fuzz-{next(counter)}" if kind == 1 else next(counter)
            requests.append(session.client.request_message(message, timeout=120))

    async def answers() -> list[Any]:
        return await asyncio.gather(*requests)

    for reply in session.run(answers()):
        session.requests += 1
        assert ("result" in reply) != ("error" in reply), reply
        if "error" in reply:
            assert isinstance(reply["error"]["code"], int)
            assert isinstance(reply["error"]["message"], str) and reply["error"]["message"]
    assert session.alive()


def test_bridge_still_works_after_the_fuzzing(session: Session) -> None:
    assert session.requests > EXAMPLES // 2
    assert session.alive()
    text = orjson.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5},
                        option=orjson.OPT_INDENT_2).decode()
    opened = session.run(session.client.request("notebook/deserialize", {"content": text}))
    assert opened["notebook"]["cells"] == []
    # malformed bodies are answered with errors (by their id, or id null), never results
    assert session.client.unmatched
    assert all("error" in m and "result" not in m for m in session.client.unmatched)


@pytest.mark.parametrize("method", ["$/cancelRequest", "textDocument/didOpen", "initialized",
                                    "$/setTrace", "notebookDocument/didClose"])
def test_a_notification_sent_with_an_id_gets_an_error(session: Session, method: str) -> None:
    params = {"id": 999_999, "value": "off", "textDocument": {
        "uri": "file:///tmp/x.py", "languageId": "python", "version": 1, "text": "x = 1"}}
    reply = session.run(session.client.request_message(
        {"jsonrpc": "2.0", "id": f"as-request-{method}", "method": method, "params": params},
        timeout=30))
    assert reply["error"]["code"] == -32600 and "notification" in reply["error"]["message"]
