"""The `notebook/deserialize` and `notebook/serialize` requests: params in, the codec
(reading.py, writing.py) on the right thread, results and partial results out."""

from __future__ import annotations

import asyncio
import binascii
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import orjson
import pybase64

from bridge.errors import BridgeError, ErrorCode, require
from bridge.large_work import collector_paused, release_memory_when_idle, run_large
from bridge.notebook import validation
from bridge.notebook.reading import Reading, open_file, read_notebook
from bridge.notebook.store import NotebookStore
from bridge.notebook.writing import write_notebook_base64, write_notebook_json
from bridge.rpc.contract import RawResult

DEFAULT_MAX_NOTEBOOK_BYTES = 1 << 30
_IN_THREAD_CHARS = 1 << 20
# Above this size the layout check runs after the reply has gone out (it costs about as
# much as parsing); saving waits for it, so nothing is written before it is done.
DEFER_CHECK_CHARS = 16 << 20
# Above this size a client that gave a `partialResultToken` gets a save's file in
# parts; a read's cells come in parts above DEFER_CHECK_CHARS (the parts path checks the
# layout after the reply), the same size.
PARTS_ABOVE_CHARS = DEFER_CHECK_CHARS
# Cells sent as one partial result: about what the pipe holds, so the client can take a
# part while the bridge makes the next.
PART_BYTES = 1 << 20


SendPart = Callable[[Any, bytes], Awaitable[None]]
"""Sends `$/progress` with a partial result (token, value already JSON); returns once the
client has taken the parts before."""


async def deserialize_request(
    params: Any, store: NotebookStore, max_bytes: int,
    reply_sent: Callable[[], Awaitable[None]] | None = None,
    send_part: SendPart | None = None,
) -> dict[str, Any] | RawResult:
    content = _file_content(params, max_bytes)
    token = _partial_result_token(params)
    if len(content) <= _IN_THREAD_CHARS:
        return read_notebook(content, store).result
    defer = len(content) > DEFER_CHECK_CHARS
    if defer and token is not None and send_part is not None:
        reading = await _read_in_parts(content, store, lambda part: send_part(token, part))
        _after_reply(store, reply_sent, reading.finish)
        notebook = {**reading.result["notebook"], "cells": []}
        return RawResult(orjson.dumps({**reading.result, "notebook": notebook}))
    # Large files are read and the reply encoded off the event loop, so kernels keep
    # streaming meanwhile.
    reading, reply = await run_large(_read_large, content, store, defer)
    if defer:
        _after_reply(store, reply_sent, reading.finish)
    return RawResult(reply)


def _read_large(content: str | bytes, store: NotebookStore,
                defer: bool) -> tuple[Reading, bytes]:
    reading = read_notebook(content, store, defer)
    return reading, orjson.dumps(reading.result)


async def _read_in_parts(content: str | bytes, store: NotebookStore,
                         send: Callable[[bytes], Awaitable[None]]) -> Reading:
    """Read a large file, sending its cells in parts as they are ready: the client parses
    one part while the bridge makes (and checks) the next, instead of parsing the whole
    reply after the bridge is done. The schema's warnings go in the reply."""
    with collector_paused():
        opened = await run_large(open_file, content, store)
        cells = opened.file_cells
        step = max(1, len(cells) * PART_BYTES // len(content))
        transfer: list[dict[str, Any]] = []
        for start in range(0, len(cells), step):
            part = opened.transfer(cells[start:start + step])
            transfer.extend(part)
            await send(orjson.dumps({"cells": part}))
        # off the loop: listing the problems of an invalid notebook takes a while
        return await run_large(opened.reading, transfer)


def _partial_result_token(params: Any) -> int | str | None:
    token = params.get("partialResultToken") if isinstance(params, dict) else None
    if token is None:
        return None
    if not isinstance(token, (int, str)) or isinstance(token, bool):
        raise BridgeError(ErrorCode.INVALID_PARAMS,
                          "parameter 'partialResultToken' must be an integer or a string")
    return token


def _file_content(params: Any, max_bytes: int) -> str | bytes:
    """The file from `content` (text) or `contentBase64` (its bytes, base64-encoded: no
    JSON string escaping for the client to do or the bridge to undo)."""
    if isinstance(params, dict) and isinstance(params.get("contentBase64"), bytes):
        data: str | bytes = params["contentBase64"]  # decoded by the transport already
        size = len(data)
    elif isinstance(params, dict) and "contentBase64" in params:
        encoded = require(params, "contentBase64", str)
        if len(encoded) > max_bytes * 4 // 3 + 4:
            raise _too_large(max_bytes)
        try:
            # pybase64 decodes with SIMD, several times faster than binascii
            data = pybase64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise BridgeError(ErrorCode.INVALID_PARAMS,
                              "parameter 'contentBase64' is not valid base64") from None
        size = len(data)
    elif isinstance(params, dict) and isinstance(params.get("content"), bytes):
        data = params["content"]  # the text as UTF-8, decoded by the transport already
        size = len(data)
    else:
        text: str = require(params, "content", str)
        # A character takes 1 to 4 bytes in UTF-8: encode only when the count can't tell.
        size = len(text)
        if size <= max_bytes < 4 * size:
            size = len(text.encode("utf-8", "surrogatepass"))
        data = text
    if size > max_bytes:
        raise _too_large(max_bytes)
    return data


def _too_large(max_bytes: int) -> BridgeError:
    return BridgeError(
        ErrorCode.TOO_LARGE,
        f"the notebook is larger than the bridge's limit of {max_bytes} bytes "
        "(nbbridge serve --max-notebook-size)",
    )


async def warm_up() -> None:
    """Prepare what the first notebook opened needs, off the event loop."""
    await run_large(validation.prepare)


def _after_reply(store: NotebookStore, reply_sent: Callable[[], Awaitable[None]] | None,
                 *steps: Callable[[], None]) -> None:
    """Run `steps` in a thread once the reply is written (a save waits for them), then
    have the memory released when the bridge is idle."""
    store.after(asyncio.ensure_future(_run_after_reply(reply_sent, steps)))


async def _run_after_reply(reply_sent: Callable[[], Awaitable[None]] | None,
                           steps: tuple[Callable[[], None], ...]) -> None:
    # Start only once the reply is written: a busy thread would slow the writing loop.
    await asyncio.sleep(0)
    if reply_sent is not None:
        await reply_sent()
    for step in steps:
        await run_large(step)
    release_memory_when_idle()


async def serialize_request(
    params: Any, store: NotebookStore, reply_sent: Callable[[], Awaitable[None]] | None = None,
    send_part: SendPart | None = None,
) -> RawResult:
    notebook = require(params, "notebook", dict)
    encoding = params.get("encoding", "text")
    if encoding not in ("text", "base64"):
        raise BridgeError(ErrorCode.INVALID_PARAMS,
                          "parameter 'encoding' must be 'text' or 'base64'")
    token = _partial_result_token(params)
    await store.settled()
    write: Callable[[Any, NotebookStore], list[bytes]] = (
        write_notebook_base64 if encoding == "base64" else write_notebook_json)
    cells = notebook.get("cells")
    if isinstance(cells, list) and len(cells) > 200:
        content = await run_large(write, notebook, store)
        _after_reply(store, reply_sent)
    else:
        content = write(notebook, store)
    member = b"contentBase64" if encoding == "base64" else b"content"
    if token is not None and send_part is not None and (
            sum(map(len, content)) > PARTS_ABOVE_CHARS):
        for part in _parts(content):
            await send_part(token, b'{"%b":"%b"}' % (member, b"".join(part)))
        content = []
    # Written out as it is: no copy into one message body, no escaping again.
    return RawResult(b'{"%b":"' % member, *content, b'"}')


def _parts(pieces: list[bytes]) -> Iterator[list[bytes]]:
    """The pieces in runs of about PART_BYTES. A text's pieces are each escaped whole and
    a base64's are each a multiple of 4 characters (but the last): a run is a JSON string
    of its own, and base64 that decodes on its own."""
    run: list[bytes] = []
    size = 0
    for piece in pieces:
        run.append(piece)
        size += len(piece)
        if size >= PART_BYTES:
            yield run
            run, size = [], 0
    if run:
        yield run
