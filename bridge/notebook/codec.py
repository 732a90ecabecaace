"""The `notebook/deserialize` and `notebook/serialize` requests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from bridge.notebook.reading import read_notebook
from bridge.notebook.writing import write_notebook_json
from bridge.protocol import BridgeError, ErrorCode, require

DEFAULT_MAX_NOTEBOOK_BYTES = 1 << 30
_IN_THREAD_CHARS = 1 << 20
# Above this size the layout check runs after the reply has gone out (it costs about as
# much as parsing); saving waits for it, so nothing is written before it is done.
DEFER_CHECK_CHARS = 16 << 20

_pending_checks: set[asyncio.Future[None]] = set()


async def deserialize_request(
    params: Any, max_bytes: int, reply_sent: Callable[[], Awaitable[None]] | None = None
) -> dict[str, Any]:
    content = require(params, "content", str)
    # Characters never outnumber UTF-8 bytes: a cheap first check before encoding.
    if len(content) > max_bytes or len(content.encode("utf-8", "surrogatepass")) > max_bytes:
        raise BridgeError(
            ErrorCode.TOO_LARGE,
            f"the notebook is larger than the bridge's limit of {max_bytes} bytes "
            "(nbbridge serve --max-notebook-size)",
        )
    if len(content) <= _IN_THREAD_CHARS:
        return read_notebook(content).result
    # Large files parse off the event loop so kernels keep streaming meanwhile.
    defer = len(content) > DEFER_CHECK_CHARS
    reading = await asyncio.to_thread(read_notebook, content, defer)
    if defer:
        check = asyncio.ensure_future(_check_later(reading.finish, reply_sent))
        _pending_checks.add(check)
        check.add_done_callback(_pending_checks.discard)
    return reading.result


async def _check_later(
    finish: Callable[[], None], reply_sent: Callable[[], Awaitable[None]] | None
) -> None:
    # Start only once the reply is written: a busy thread would slow the writing loop.
    await asyncio.sleep(0)
    if reply_sent is not None:
        await reply_sent()
    await asyncio.to_thread(finish)


async def serialize_request(params: Any) -> dict[str, Any]:
    notebook = require(params, "notebook", dict)
    if _pending_checks:
        await asyncio.gather(*_pending_checks, return_exceptions=True)
    cells = notebook.get("cells")
    if isinstance(cells, list) and len(cells) > 200:
        content = await asyncio.to_thread(write_notebook_json, notebook)
    else:
        content = write_notebook_json(notebook)
    # Already a JSON string: the reply embeds it without escaping it again.
    return {"content": orjson.Fragment(content)}
