"""The nbbridge language server: wiring only. Each handler hands over to a feature module."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from lsprotocol import types
from pygls import uris
from pygls.lsp.server import LanguageServer

from bridge import __version__, export
from bridge.kernels.service import KernelService
from bridge.language import commands, completion, hover, signature
from bridge.language.service import LanguageService, notebook_sync_options
from bridge.large_work import keep_freed_memory
from bridge.notebook import checkpoints, requests
from bridge.notebook.file_content import parse_body
from bridge.notebook.store import NotebookStore
from bridge.options import read_options
from bridge.rpc.contract import (
    KERNEL_ATTACH,
    KERNEL_COMM_INFO,
    KERNEL_ENVIRONMENTS,
    KERNEL_EXECUTE,
    KERNEL_INSTALL_IPYKERNEL,
    KERNEL_INTERRUPT,
    KERNEL_LIST,
    KERNEL_RESTART,
    KERNEL_SEND_COMM,
    KERNEL_SERVERS_ADD,
    KERNEL_SERVERS_KERNELS,
    KERNEL_SERVERS_LIST,
    KERNEL_SERVERS_REMOVE,
    KERNEL_SHUTDOWN,
    KERNEL_SPECS,
    KERNEL_START,
    KERNEL_WIDGET_STATE,
    NOTEBOOK_CHECKPOINT,
    NOTEBOOK_DESERIALIZE,
    NOTEBOOK_EXPORT,
    NOTEBOOK_SERIALIZE,
    RawResult,
)
from bridge.rpc.protocol import BridgeLanguageServerProtocol
from bridge.rpc.transport import DEFAULT_MAX_MESSAGE_BYTES, detach_stdout, run_stdio

logger = logging.getLogger(__name__)


class BridgeServer(LanguageServer):
    """The pygls server: the protocol, the workspace and the shutdown hooks. Each feature
    keeps its state in its own service object, given what it needs."""

    def __init__(self, max_notebook_bytes: int = requests.DEFAULT_MAX_NOTEBOOK_BYTES) -> None:
        super().__init__(
            name="nbbridge",
            version=__version__,
            protocol_cls=BridgeLanguageServerProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            notebook_document_sync=notebook_sync_options(),
        )
        self.max_notebook_bytes = max_notebook_bytes
        self.shutdown_hooks: list[Callable[[], Awaitable[None]]] = []
        self.exited = asyncio.Event()

    @property
    def bridge_protocol(self) -> BridgeLanguageServerProtocol:
        protocol = self.protocol
        assert isinstance(protocol, BridgeLanguageServerProtocol)
        return protocol

    async def output_drained(self) -> None:
        """Wait until every message sent so far has been written to the client."""
        await self.bridge_protocol.drained()

    async def send_partial_result(self, token: int | str, value: bytes) -> None:
        """Send one partial result; return once it is in the pipe (a slow client holds
        the sender back) and other messages have had their turn."""
        self.bridge_protocol.send_partial_result(token, value)
        await self.output_drained()
        await asyncio.sleep(0)

    async def run_shutdown_hooks(self) -> None:
        for hook in reversed(self.shutdown_hooks):
            try:
                await hook()
            except Exception:
                logger.exception("shutdown hook failed")


def workspace_roots(server: BridgeServer) -> list[str]:
    """The client's workspace folders as paths (where project environments live)."""
    try:
        workspace = server.workspace
    except RuntimeError:
        return []  # before initialize
    roots = [uris.to_fs_path(folder.uri) for folder in workspace.folders.values()]
    if workspace.root_path:
        roots.append(workspace.root_path)
    return list(dict.fromkeys(root for root in roots if root))


def create_server(max_notebook_bytes: int = requests.DEFAULT_MAX_NOTEBOOK_BYTES,
                  warm_pool: bool = False, durable: bool = False) -> BridgeServer:
    server = BridgeServer(max_notebook_bytes)
    rpc = server.bridge_protocol
    kernels = KernelService(rpc, warm_pool, roots=lambda: workspace_roots(server),
                            durable=durable)
    server.shutdown_hooks.append(kernels.shutdown_all)
    language = LanguageService(lambda: server.workspace, kernels.registry, rpc)
    server.shutdown_hooks.append(language.close)
    store = NotebookStore()

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: BridgeServer, params: Any) -> None:
        await ls.run_shutdown_hooks()

    @server.feature(types.EXIT)
    def exit_(ls: BridgeServer, params: Any) -> None:
        ls.exited.set()

    @server.feature(types.INITIALIZED)
    async def initialized(ls: BridgeServer, params: Any) -> None:
        options = read_options(ls.bridge_protocol.initialization_options)
        kernels.configure(options.kernels)
        language.configure(options.language)
        if options.problems:
            # initialized is a notification: the user can only be told, not answered.
            ls.window_show_message(types.ShowMessageParams(
                types.MessageType.Error, "nbbridge: " + "; ".join(options.problems)))
        await requests.warm_up()

    # Requests answered from their params alone, one feature method each.
    answers: dict[str, Callable[[Any], Awaitable[Any]]] = {
        KERNEL_SPECS: kernels.specs, KERNEL_START: kernels.start,
        KERNEL_EXECUTE: kernels.execute, KERNEL_INTERRUPT: kernels.interrupt,
        KERNEL_RESTART: kernels.restart, KERNEL_SHUTDOWN: kernels.shutdown,
        KERNEL_ENVIRONMENTS: kernels.list_environments,
        KERNEL_INSTALL_IPYKERNEL: kernels.install_ipykernel,
        KERNEL_SERVERS_ADD: kernels.add_server, KERNEL_SERVERS_LIST: kernels.list_servers,
        KERNEL_SERVERS_REMOVE: kernels.remove_server,
        KERNEL_SERVERS_KERNELS: kernels.server_kernels,
        KERNEL_SEND_COMM: kernels.send_comm, KERNEL_COMM_INFO: kernels.comm_info,
        KERNEL_WIDGET_STATE: kernels.widget_state,
        KERNEL_ATTACH: kernels.attach, KERNEL_LIST: kernels.list_kernels,
        NOTEBOOK_EXPORT: export.export_request, NOTEBOOK_CHECKPOINT: checkpoints.checkpoint_request,
    }
    for method, answer in answers.items():
        _register_answer(server, method, answer)

    @server.feature(NOTEBOOK_DESERIALIZE)
    async def notebook_deserialize(ls: BridgeServer, params: Any) -> dict[str, Any] | RawResult:
        return await requests.deserialize_request(params, store, ls.max_notebook_bytes,
                                                  ls.output_drained, ls.send_partial_result)

    @server.feature(NOTEBOOK_SERIALIZE)
    async def notebook_serialize(ls: BridgeServer, params: Any) -> RawResult:
        return await requests.serialize_request(params, store, ls.output_drained,
                                                ls.send_partial_result)

    _register_language(server, language)
    return server


def _register_answer(server: BridgeServer, method: str,
                     answer: Callable[[Any], Awaitable[Any]]) -> None:
    @server.feature(method)
    async def handle(ls: BridgeServer, params: Any) -> Any:
        return await answer(params)


def _register_language(server: BridgeServer, language: LanguageService) -> None:
    """Completion, hover, signature help, notebook sync and the script commands."""

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(
        trigger_characters=completion.TRIGGER_CHARACTERS, resolve_provider=True))
    async def complete(ls: BridgeServer, params: types.CompletionParams) -> Any:
        return await completion.complete(language, params)

    @server.feature(types.COMPLETION_ITEM_RESOLVE)
    async def resolve(ls: BridgeServer, item: types.CompletionItem) -> Any:
        return await completion.resolve(language, item)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover_(ls: BridgeServer, params: types.HoverParams) -> Any:
        return await hover.hover(language, params)

    @server.feature(types.TEXT_DOCUMENT_SIGNATURE_HELP, types.SignatureHelpOptions(
        trigger_characters=signature.SIGNATURE_TRIGGERS,
        retrigger_characters=signature.SIGNATURE_RETRIGGERS))
    async def signature_help(ls: BridgeServer, params: types.SignatureHelpParams) -> Any:
        return await signature.signature_help(language, params)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    async def notebook_opened(ls: BridgeServer,
                              params: types.DidOpenNotebookDocumentParams) -> None:
        language.notebook_opened(params.notebook_document.uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    async def notebook_closed(ls: BridgeServer,
                              params: types.DidCloseNotebookDocumentParams) -> None:
        language.cells_closed([cell.uri for cell in params.cell_text_documents])

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    async def document_opened(ls: BridgeServer,
                              params: types.DidOpenTextDocumentParams) -> None:
        language.document_opened(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    async def document_changed(ls: BridgeServer,
                               params: types.DidChangeTextDocumentParams) -> None:
        language.document_changed(params)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    async def document_closed(ls: BridgeServer,
                              params: types.DidCloseTextDocumentParams) -> None:
        language.document_closed(params.text_document.uri)

    @server.command(commands.RUN_CELL)
    async def run_cell(ls: BridgeServer, *arguments: Any) -> dict[str, Any]:
        return await commands.run_cell(language, list(arguments))

    @server.command(commands.RUN_FILE)
    async def run_file(ls: BridgeServer, *arguments: Any) -> dict[str, Any]:
        return await commands.run_file(language, list(arguments))


async def _serve(server: BridgeServer, max_message_bytes: int) -> int:
    wire = detach_stdout()
    protocol = server.bridge_protocol
    reading = asyncio.create_task(run_stdio(protocol, max_message_bytes, stdout=wire,
                                            parse_large=parse_body(NOTEBOOK_DESERIALIZE)))
    exiting = asyncio.create_task(server.exited.wait())
    await asyncio.wait({reading, exiting}, return_when=asyncio.FIRST_COMPLETED)
    clean = exiting.done() and protocol._shutdown
    reading.cancel()
    exiting.cancel()
    # Input closed or exit without shutdown: the client is gone. Its own kernels go with
    # it; the kernel host's stay for the next client to attach to.
    await server.run_shutdown_hooks()
    return 0 if clean else 1


def serve(max_notebook_bytes: int = requests.DEFAULT_MAX_NOTEBOOK_BYTES,
          warm_pool: bool = False, durable: bool = False) -> int:
    keep_freed_memory()
    server = create_server(max_notebook_bytes, warm_pool, durable)
    max_message = max(DEFAULT_MAX_MESSAGE_BYTES, 2 * max_notebook_bytes + (1 << 20))
    return asyncio.run(_serve(server, max_message))
