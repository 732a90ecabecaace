"""The codec through `nbbridge serve` and a real JSON-RPC client on its stdio pipes."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import subprocess
import sys

import orjson
import pytest

from bridge import __version__
from bridge.notebook.writing import base64_pieces

from bridge_client import BridgeClient, RpcError
from codec.helpers import deserialize_body, parseable_v4, without_output_tokens
from conftest import CORPUS


async def test_initialize_advertises_the_custom_methods(bridge: BridgeClient) -> None:
    assert bridge.initialize_result is not None
    ours = bridge.initialize_result["capabilities"]["experimental"]["nbbridge"]
    assert ours["protocolVersion"] >= 1
    assert {"notebook/deserialize", "notebook/serialize"} <= set(ours["methods"])
    assert bridge.initialize_result["serverInfo"] == {"name": "nbbridge", "version": __version__}


async def test_corpus_round_trips_byte_identical_through_the_bridge(
    bridge: BridgeClient,
) -> None:
    files = parseable_v4()
    for path in files:
        text = path.read_text(encoding="utf-8")
        opened = await bridge.request("notebook/deserialize", {"content": text})
        saved = await bridge.request("notebook/serialize", {"notebook": opened["notebook"]})
        assert saved["content"] == text, path


async def test_second_bridge_writes_what_the_first_read(bridge: BridgeClient) -> None:
    """Nothing needed for a byte-identical save lives only in the bridge that read the file."""
    text = (CORPUS / "nbdime" / "nbdime" / "tests" / "files" / "multi_cell_nb.ipynb").read_text()
    opened = await bridge.request("notebook/deserialize", {"content": text})
    other = await BridgeClient.start()
    try:
        await other.initialize()
        saved = await other.request("notebook/serialize", {"notebook": opened["notebook"]})
    finally:
        await other.shutdown()
    assert saved["content"] == text


async def test_v3_notebook_opens_with_upgrade_warning(bridge: BridgeClient) -> None:
    text = (CORPUS / "nbformat" / "tests" / "test3.ipynb").read_text(encoding="utf-8")
    opened = await bridge.request("notebook/deserialize", {"content": text})
    assert any("upgraded to nbformat 4" in w for w in opened["warnings"])
    saved = await bridge.request("notebook/serialize", {"notebook": opened["notebook"]})
    assert orjson.loads(saved["content"])["nbformat"] == 4


async def test_bad_requests_get_errors_and_the_bridge_keeps_answering(
    bridge: BridgeClient,
) -> None:
    with pytest.raises(RpcError) as not_json:
        await bridge.request("notebook/deserialize", {"content": '{\n "cells": [\n  {,'})
    assert not_json.value.code == -32001
    assert "line 3, column 4" in not_json.value.message
    assert not_json.value.data == {"line": 3, "column": 4, "offset": 17}

    with pytest.raises(RpcError) as missing:
        await bridge.request("notebook/deserialize", {})
    assert missing.value.code == -32602 and "'content'" in missing.value.message

    with pytest.raises(RpcError) as wrong_type:
        await bridge.request("notebook/serialize", {"notebook": {"cells": [{"kind": "x"}]}})
    assert wrong_type.value.code == -32602 and "kind" in wrong_type.value.message

    with pytest.raises(RpcError) as unknown:
        await bridge.request("notebook/nonsense", {})
    assert unknown.value.code == -32601

    bridge.send_raw(b'{"jsonrpc": "2.0", "id": 99, "method": ')  # truncated body
    bridge.send_raw(b"[1, 2, 3]")
    text = (CORPUS / "nbformat" / "tests" / "test4.ipynb").read_text(encoding="utf-8")
    opened = await bridge.request("notebook/deserialize", {"content": text})
    assert opened["notebook"]["cells"]


async def test_over_the_size_limit_is_a_clear_error_not_a_crash() -> None:
    client = await BridgeClient.start("--max-notebook-size", "64KiB")
    try:
        await client.initialize()
        big = '{"cells": [], "metadata": {"pad": "' + "x" * 200_000 + '"}, "nbformat": 4}'
        with pytest.raises(RpcError) as too_large:
            await client.request("notebook/deserialize", {"content": big})
        assert too_large.value.code == -32003
        assert "65536 bytes" in too_large.value.message
        # A message over the whole-message limit (2x the notebook limit + 1 MiB) is
        # skipped unread and answered by id.
        huge = "y" * (3 << 20)
        with pytest.raises(RpcError) as skipped:
            await client.request("notebook/deserialize", {"content": huge})
        assert skipped.value.code == -32003
        small = await client.request("notebook/deserialize", {
            "content": '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'})
        assert small["notebook"]["cells"] == []
    finally:
        await client.shutdown()


async def test_shutdown_and_exit_end_the_process_cleanly() -> None:
    client = await BridgeClient.start()
    await client.initialize()
    assert await client.shutdown() == 0


async def test_closed_input_ends_the_bridge() -> None:
    client = await BridgeClient.start()
    await client.initialize()
    await client.close_input()
    code = await asyncio.wait_for(client.process.wait(), 20)
    assert code == 1  # ended without a shutdown request


def test_version_and_help() -> None:
    version = subprocess.run([sys.executable, "-m", "bridge", "--version"],
                             capture_output=True, text=True, check=True)
    assert version.stdout.strip() == f"nbbridge {__version__}"
    helped = subprocess.run([sys.executable, "-m", "bridge", "--help"],
                            capture_output=True, text=True, check=True)
    assert "serve" in helped.stdout


async def test_base64_transport_round_trips_bytes(bridge: BridgeClient) -> None:

    for path in parseable_v4()[::10]:
        raw = path.read_bytes()
        opened = await bridge.request("notebook/deserialize",
                                      {"contentBase64": base64.b64encode(raw).decode()})
        saved = await bridge.request("notebook/serialize",
                                     {"notebook": opened["notebook"], "encoding": "base64"})
        assert base64.b64decode(saved["contentBase64"]) == raw, path
    with pytest.raises(RpcError) as bad:
        await bridge.request("notebook/deserialize", {"contentBase64": "not base64!"})
    assert bad.value.code == -32602 and "base64" in bad.value.message
    with pytest.raises(RpcError) as not_utf8:
        await bridge.request("notebook/deserialize",
                             {"contentBase64": base64.b64encode(b'{"a": "\xff"}').decode()})
    assert not_utf8.value.code == -32001


async def test_large_base64_notebook_opens_the_same_whatever_the_message_looks_like(
        bridge: BridgeClient) -> None:
    """A large `contentBase64` is decoded straight from the message when it is plainly
    there (members after it too); escaped slashes or another method take the general
    path, with the same result."""

    png = base64.b64encode(bytes(range(256)) * 24_000).decode()  # ~8 MB of output
    notebook = {"cells": [{"cell_type": "code", "execution_count": 1, "id": "a",
                           "metadata": {}, "source": ["x"], "outputs": [{
                               "output_type": "display_data", "metadata": {},
                               "data": {"image/png": png, "text/plain": ["é😀~?" * 999]}}]}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    raw = orjson.dumps(notebook, option=orjson.OPT_INDENT_2) + b"\n"
    encoded = base64.b64encode(raw)
    assert b"/" in encoded and len(encoded) > 4 << 20

    def body(msg_id: int, value: bytes, after: bytes = b"",
             method: bytes = b"notebook/deserialize") -> bytes:
        return deserialize_body(b'"%b"' % value, b"contentBase64", after, method, msg_id)

    plain = await bridge.request_raw(1, body(1, encoded))
    escaped = await bridge.request_raw(2, body(2, encoded.replace(b"/", b"\\/")))
    followed = await bridge.request_raw(3, body(3, encoded, b',"note":"x"'))
    assert (without_output_tokens(plain) == without_output_tokens(escaped)
            == without_output_tokens(followed))
    assert plain["notebook"]["cells"][0]["outputs"][0]["data"]["image/png"] == png
    saved = await bridge.request("notebook/serialize",
                                 {"notebook": plain["notebook"], "encoding": "base64"})
    assert base64.b64decode(saved["contentBase64"]) == raw

    broken = encoded[:1000] + b"!" + encoded[1001:]
    with pytest.raises(RpcError) as bad:
        await bridge.request_raw(4, body(4, broken))
    assert bad.value.code == -32602 and "base64" in bad.value.message
    with pytest.raises(RpcError) as other:
        await bridge.request_raw(5, body(5, encoded, method=b"notebook/serialize"))
    assert other.value.code == -32602 and "notebook" in other.value.message
    general = await bridge.request("notebook/deserialize", {"contentBase64": encoded.decode()})
    assert without_output_tokens(general) == without_output_tokens(plain)


async def test_large_text_notebook_opens_the_same_whatever_the_message_looks_like(
        bridge: BridgeClient) -> None:
    """A large `content` is decoded from the message in pieces: escapes of every kind,
    emoji, CJK and long runs of backslashes come out as orjson reads the whole string,
    with or without a member after it; another method or a string that is not valid
    JSON take the general path, with the same answer."""
    source = ("print(\"é😀 漢字 \\t tab\")\n" + "\\" * 70_000 + "\n\x1b[31mred\x1b[0m\n") * 20
    notebook = {"cells": [{"cell_type": "code", "execution_count": 1, "id": "a",
                           "metadata": {}, "source": source.splitlines(True), "outputs": [{
                               "output_type": "stream", "name": "stdout",
                               "text": ["漢😀\"\\/\r\n" * 200_000]}]}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    text = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
    assert len(text.encode()) > 5 << 20

    def body(msg_id: int, value: bytes, after: bytes = b"",
             method: bytes = b"notebook/deserialize") -> bytes:
        return deserialize_body(value, b"content", after, method, msg_id)

    plain_value = orjson.dumps(text)
    ascii_value = json.dumps(text).encode()  # every non-ASCII character as \\uXXXX
    slashed_value = plain_value.replace(b"/", b"\\/")
    plain = await bridge.request_raw(1, body(1, plain_value))
    escaped = await bridge.request_raw(2, body(2, ascii_value))
    followed = await bridge.request_raw(3, body(3, plain_value, b',"note":"x"'))
    slashed = await bridge.request_raw(4, body(4, slashed_value))
    assert (without_output_tokens(plain) == without_output_tokens(escaped)
            == without_output_tokens(followed) == without_output_tokens(slashed))
    assert "".join(plain["notebook"]["cells"][0]["outputs"][0]["text"]) == (
        "漢😀\"\\/\r\n" * 200_000)
    saved = await bridge.request("notebook/serialize", {"notebook": plain["notebook"]})
    assert saved["content"] == text
    with pytest.raises(RpcError) as other:
        await bridge.request_raw(5, body(5, plain_value, method=b"notebook/serialize"))
    assert other.value.code == -32602 and "notebook" in other.value.message
    for broken in (body(6, plain_value[:-1000] + b"\n" + plain_value[-1000:]),
                   body(7, plain_value[:-1000] + b'"' + plain_value[-1000:])):
        bridge.send_raw(broken)  # not JSON: answered with a parse error (no id to use)
    empty = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    small = await bridge.request("notebook/deserialize", {"content": empty})
    assert small["notebook"]["cells"] == []
    assert [message["error"]["code"] for message in bridge.unmatched] == [-32700, -32700]


def test_base64_in_pieces_is_the_base64_of_the_whole() -> None:
    rng = random.Random(5)
    for _ in range(300):
        chunks = [rng.randbytes(rng.choice((0, 1, 2, 3, 4, 5, rng.randrange(200))))
                  for _ in range(rng.randrange(12))]
        assert b"".join(base64_pieces(chunks)) == base64.b64encode(b"".join(chunks)), chunks
