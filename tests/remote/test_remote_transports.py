"""Servers reached over https with a custom CA, and over a Unix socket."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from bridge_client import BridgeClient, RpcError
from kernels.kernel_helpers import Cell, run
from remote_servers import RunningServer, start_jupyter_server


def self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True,
                   capture_output=True)
    return cert, key


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[RunningServer, Path]]:
    cert, key = self_signed(tmp_path)
    server = start_jupyter_server(tmp_path / "server", f"--ServerApp.certfile={cert}",
                                  f"--ServerApp.keyfile={key}", scheme="https")
    yield server, cert
    server.stop()


@pytest.fixture
def unix_server() -> Iterator[RunningServer]:
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="nbs-", dir="/tmp"))
    server = start_jupyter_server(folder, unix_socket=str(folder / "js.sock"))
    yield server
    server.stop()


async def test_https_with_the_servers_own_ca(https_server: tuple[RunningServer, Path]
                                            ) -> None:
    server, cert = https_server
    assert server.url.startswith("https://")
    client = await BridgeClient.start()
    try:
        await client.initialize()
        with pytest.raises(RpcError) as raised:  # not trusted without its CA
            await client.request("kernel/servers/add", {"url": server.url,
                                                        "token": server.token})
        assert raised.value.code == -32030
        assert "certificate" in raised.value.message.lower()
        added = await client.request("kernel/servers/add", {
            "url": server.url, "token": server.token, "caFile": str(cert)})
        started = await client.request("kernel/start", {"serverId": added["serverId"]})
        cell = await run(client, started["kernelId"], "print('over tls')")
        assert cell.text() == "over tls\n"
        await client.request("kernel/shutdown", {"kernelId": started["kernelId"]})
    finally:
        await client.shutdown()


async def test_a_server_on_a_unix_socket(unix_server: RunningServer) -> None:
    assert unix_server.unix_socket is not None
    url = f"http+unix://{quote(unix_server.unix_socket, safe='')}/"
    client = await BridgeClient.start()
    try:
        await client.initialize()
        added = await client.request("kernel/servers/add", {"url": url,
                                                            "token": unix_server.token})
        assert added["url"] == url
        started = await client.request("kernel/start", {"serverId": added["serverId"]})
        cell = await run(client, started["kernelId"], "print('over a socket file')")
        assert cell.text() == "over a socket file\n"
        await client.request("kernel/shutdown", {"kernelId": started["kernelId"]})
    finally:
        await client.shutdown()


async def test_the_environment_names_a_server(tmp_path: Path) -> None:
    server = start_jupyter_server(tmp_path)
    client = await BridgeClient.start(env={"JUPYTER_SERVER_URL": server.url,
                                           "JUPYTER_TOKEN": server.token})
    try:
        await client.initialize()
        listed = await client.request("kernel/servers/list", {})
        assert [s["url"] for s in listed["servers"]] == [server.url]
        started = await client.request("kernel/start",
                                       {"serverId": listed["servers"][0]["serverId"]})
        cell = await run(client, started["kernelId"], "print(1 + 1)")
        assert cell.text() == "2\n"
    finally:
        await client.shutdown()
        server.stop()


async def test_the_token_is_never_logged(tmp_path: Path) -> None:
    server = start_jupyter_server(tmp_path)
    log = tmp_path / "bridge.log"
    with log.open("wb") as stderr:
        client = await BridgeClient.start(stderr=stderr, log_level="DEBUG")
        try:
            await client.initialize()
            added = await client.request("kernel/servers/add", {
                "url": f"{server.url}?token={server.token}"})
            started = await client.request("kernel/start", {"serverId": added["serverId"]})
            assert (await run(client, started["kernelId"], "1")).status == "ok"
            assert server.token not in str(await client.request("kernel/servers/list", {}))
        finally:
            await client.shutdown()
            server.stop()
    text = log.read_text()
    assert "kernel/servers/add" in text  # the log is at DEBUG indeed
    assert server.token not in text


async def run_on_server(server: RunningServer, *codes: str
                        ) -> tuple[dict[str, Any], list[Cell]]:
    """The kernel/start result of a kernel on `server`, and each code's cell run there."""
    client = await BridgeClient.start()
    try:
        await client.initialize()
        added = await client.request("kernel/servers/add", {"url": server.url,
                                                            "token": server.token})
        started = await client.request("kernel/start", {"serverId": added["serverId"]})
        cells = [await run(client, started["kernelId"], code) for code in codes]
        await client.request("kernel/shutdown", {"kernelId": started["kernelId"]})
        return started, cells
    finally:
        await client.shutdown()


async def test_a_server_speaking_the_legacy_framing(tmp_path: Path) -> None:
    # an empty protocol makes jupyter_server refuse the v1 subprotocol: JSON text frames
    server = start_jupyter_server(tmp_path / "server",
                                  "--ZMQChannelsWebsocketConnection.kernel_ws_protocol=")
    try:
        started, (printed, failed, shown) = await run_on_server(
            server, "print('legacy')", "1/0",
            "from IPython.display import display, Image\n"
            "display(Image(data=bytes(range(256)) * 4, format='png'))")
    finally:
        server.stop()
    assert started["websocketProtocol"] == "legacy"
    assert printed.text() == "legacy\n"
    assert failed.status == "error" and failed.outputs[-1]["ename"] == "ZeroDivisionError"
    assert shown.outputs[0]["output_type"] == "display_data"
    assert "image/png" in shown.outputs[0]["data"]


async def test_the_servers_iopub_rate_limit_warning_reaches_the_cell(tmp_path: Path) -> None:
    server = start_jupyter_server(tmp_path / "server", "--ServerApp.iopub_msg_rate_limit=50",
                                  "--ServerApp.rate_limit_window=1")
    try:
        started, (flood,) = await run_on_server(
            server, "import time\nfor i in range(3000):\n    print(i, flush=True)\n"
                    "time.sleep(1.5)\nprint('after the flood', flush=True)")
    finally:
        server.stop()
    assert started["websocketProtocol"] == "v1.kernel.websocket.jupyter.org"
    assert flood.status == "ok"
    assert "IOPub message rate exceeded" in flood.text("stderr")
    assert flood.text().rstrip().endswith("after the flood")
