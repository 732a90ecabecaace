"""`nbbridge.runCell` and `nbbridge.runFile`: run a `# %%` script's cells on its kernel.

For editors with no notebook UI (Neovim, Helix, Emacs): the script's kernel is started on
first use (it is then also the kernel that completes in that file), outputs stream as
`kernel/output` notifications, each finished cell is reported as `script/cellResult` and
as plain text in `window/logMessage`, and the command's result holds every output.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from lsprotocol import types

from bridge.errors import BridgeError, ErrorCode
from bridge.kernels.streaming import run_streamed
from bridge.language.percent import ScriptCell, cell_at_line, split_cells
from bridge.language.runtime import strip_ansi
from bridge.rpc.contract import SCRIPT_CELL_RESULT

if TYPE_CHECKING:
    from bridge.kernels.session import KernelSession
    from bridge.language.service import LanguageService

RUN_CELL = "nbbridge.runCell"
RUN_FILE = "nbbridge.runFile"
COMMANDS = [RUN_CELL, RUN_FILE]
_TEXT_LIMIT = 20_000


def _document_argument(service: LanguageService,
                       arguments: Any) -> tuple[str, dict[str, Any]]:
    """The uri and options of `[{"textDocument": {"uri"}, ...}]`, `[uri, ...]` or `[]`.

    No arguments (Helix's `:lsp-workspace-command`) means the script and line the
    client last edited or asked about.
    """
    if arguments == [] and service.last_position is not None:
        uri, line = service.last_position
        return uri, {"position": {"line": line, "character": 0}}
    if not isinstance(arguments, list) or not arguments:
        raise BridgeError(ErrorCode.INVALID_PARAMS,
                          "arguments must be [{textDocument: {uri}, position?}] or [uri, ...]"
                          " (or none, after an edit in a script)")
    first = arguments[0]
    if isinstance(first, str):
        options: dict[str, Any] = {}
        if len(arguments) > 1 and isinstance(arguments[1], dict):
            options["position"] = arguments[1]
        return first, options
    if isinstance(first, dict):
        document = first.get("textDocument")
        named = document.get("uri") if isinstance(document, dict) else first.get("uri")
        if isinstance(named, str):
            return named, first
    raise BridgeError(ErrorCode.INVALID_PARAMS, "the first argument names no document uri")


def _line(options: dict[str, Any]) -> int:
    position = options.get("position")
    line = position.get("line") if isinstance(position, dict) else options.get("line")
    if not isinstance(line, int) or isinstance(line, bool) or line < 0:
        raise BridgeError(ErrorCode.INVALID_PARAMS,
                          "nbbridge.runCell needs a position {line, character}")
    return line


def _script_text(service: LanguageService, uri: str) -> str:
    document = service.workspace.text_documents.get(unquote(uri))
    if document is None:
        raise BridgeError(ErrorCode.INVALID_PARAMS,
                          f"{uri} is not open: send textDocument/didOpen first")
    source: str = document.source
    return source


async def run_cell(service: LanguageService, arguments: Any) -> dict[str, Any]:
    uri, options = _document_argument(service, arguments)
    line = _line(options)
    cells = split_cells(_script_text(service, uri))
    cell = cell_at_line(cells, line)
    if cell is None or not cell.is_code:
        raise BridgeError(ErrorCode.INVALID_PARAMS, f"line {line} is in no code cell of {uri}")
    session = await _kernel(service, uri, options)
    result = await _run(service, session, uri, cell)
    return {"kernelId": session.kernel_id, "cells": [result]}


async def run_file(service: LanguageService, arguments: Any) -> dict[str, Any]:
    uri, options = _document_argument(service, arguments)
    cells = [cell for cell in split_cells(_script_text(service, uri))
             if cell.is_code and cell.code.strip()]
    session = await _kernel(service, uri, options)
    results = []
    for cell in cells:
        result = await _run(service, session, uri, cell)
        results.append(result)
        if result["status"] != "ok":
            break  # later cells would run on a state the user did not intend
    return {"kernelId": session.kernel_id, "cells": results}


async def _kernel(service: LanguageService, uri: str, options: dict[str, Any]) -> KernelSession:
    session = service.kernels.for_notebook(uri)
    if session is not None and session.state != "dead":
        return session
    if session is not None:
        raise BridgeError(ErrorCode.KERNEL_DEAD,
                          f"the kernel of {uri} is dead; restart it with kernel/restart")
    kernel_name = options.get("kernelName")
    return await service.kernels.start(
        kernel_name if isinstance(kernel_name, str) else None, uri)


async def _run(service: LanguageService, session: KernelSession, uri: str,
               cell: ScriptCell) -> dict[str, Any]:
    rpc = service.rpc
    execution_id = str(uuid.uuid4())
    head = {"kernelId": session.kernel_id, "executionId": execution_id}
    outputs: list[dict[str, Any]] = []
    reply = await run_streamed(session, cell.code, execution_id, rpc=rpc,
                               outputs=outputs)
    text = outputs_text(outputs)
    result = {
        "uri": uri,
        "cell": {"index": cell.index, "startLine": cell.start, "endLine": cell.end,
                 "title": cell.title},
        **head,
        "status": reply["status"],
        "executionCount": reply.get("executionCount"),
        "outputs": outputs,
        "text": text,
    }
    rpc.notify(SCRIPT_CELL_RESULT, result)
    count = reply.get("executionCount")
    title = f"[{count if count is not None else ' '}] {uri} cell {cell.index + 1}"
    rpc.notify(types.WINDOW_LOG_MESSAGE, types.LogMessageParams(
        type=types.MessageType.Error if reply["status"] == "error" else types.MessageType.Info,
        message=f"{title} ({reply['status']})" + (f"\n{text}" if text else ""),
    ))
    return result


def outputs_text(outputs: list[dict[str, Any]]) -> str:
    """nbformat outputs as the plain text a terminal would show."""
    parts: list[str] = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            text = output.get("text", "")
            parts.append(text if isinstance(text, str) else "".join(text))
        elif kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            plain = data.get("text/plain")
            if plain is not None:
                parts.append((plain if isinstance(plain, str) else "".join(plain)) + "\n")
            elif data:
                parts.append(f"<{', '.join(sorted(data))}>\n")
        elif kind == "error":
            parts.append(strip_ansi("\n".join(output.get("traceback", []))) + "\n")
    text = "".join(parts)
    return text if len(text) <= _TEXT_LIMIT else text[:_TEXT_LIMIT] + "\n… (truncated)"
