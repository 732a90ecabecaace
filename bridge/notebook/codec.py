"""The `notebook/deserialize` and `notebook/serialize` requests."""

from __future__ import annotations

import asyncio
from typing import Any

from bridge.notebook.reading import read_notebook
from bridge.notebook.writing import write_notebook
from bridge.protocol import BridgeError, ErrorCode, require

DEFAULT_MAX_NOTEBOOK_BYTES = 1 << 30
_IN_THREAD_CHARS = 1 << 20


async def deserialize_request(params: Any, max_bytes: int) -> dict[str, Any]:
    content = require(params, "content", str)
    # Characters never outnumber UTF-8 bytes: a cheap first check before encoding.
    if len(content) > max_bytes or len(content.encode("utf-8", "surrogatepass")) > max_bytes:
        raise BridgeError(
            ErrorCode.TOO_LARGE,
            f"the notebook is larger than the bridge's limit of {max_bytes} bytes "
            "(nbbridge serve --max-notebook-size)",
        )
    if len(content) > _IN_THREAD_CHARS:
        # Large files parse off the event loop so kernels keep streaming meanwhile.
        return await asyncio.to_thread(read_notebook, content)
    return read_notebook(content)


async def serialize_request(params: Any) -> dict[str, Any]:
    notebook = require(params, "notebook", dict)
    cells = notebook.get("cells")
    if isinstance(cells, list) and len(cells) > 200:
        return {"content": await asyncio.to_thread(write_notebook, notebook)}
    return {"content": write_notebook(notebook)}
