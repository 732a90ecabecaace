"""The language features' shared state: jedi's worker, masked cells, settings, contexts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol
from urllib.parse import unquote

from lsprotocol import types
from pygls.workspace import Workspace

from bridge.kernels.session import KernelSession
from bridge.kernels.streaming import Rpc
from bridge.language.contexts import CompletionContexts
from bridge.language.documents import (
    NOTEBOOK_TYPES,
    MaskedCells,
    SourceView,
    notebook_program,
    program_location,
    source_view,
)
from bridge.language.engine import JediEngine
from bridge.language.kernel_completions import KernelCompletions
from bridge.language.runtime import KernelCompleters
from bridge.options import LanguageSettings


def notebook_sync_options() -> types.NotebookDocumentSyncOptions:
    """Which notebooks the client syncs to us: every cell of our notebook types (Python
    cells for jedi and the kernel, the others for the kernel)."""
    return types.NotebookDocumentSyncOptions(
        notebook_selector=[
            types.NotebookDocumentFilterWithNotebook(
                notebook=types.NotebookDocumentFilterNotebookType(notebook_type=kind))
            for kind in NOTEBOOK_TYPES
        ],
        save=False,
    )


class NotebookKernels(Protocol):
    """How the language features find (and the script commands start) a notebook's
    kernel: the kernel started with kernel/start's notebookUri."""

    def for_notebook(self, notebook_uri: str) -> KernelSession | None: ...

    async def start(self, kernel_name: str | None = None, notebook_uri: str | None = None,
                    cwd: str | None = None) -> KernelSession: ...


class LanguageService:
    def __init__(self, workspace: Callable[[], Workspace], kernels: NotebookKernels,
                 rpc: Rpc, settings: LanguageSettings | None = None) -> None:
        self._workspace = workspace  # pygls makes the workspace at initialize
        self.kernels = kernels
        self.rpc = rpc
        self.engine = JediEngine()
        self.masked = MaskedCells()
        self.settings = settings or LanguageSettings()
        self.completers = KernelCompleters()
        self.kernel_completions = KernelCompletions()
        self.contexts = CompletionContexts()
        # (script uri, line) last edited or asked about: what argument-less commands mean
        self.last_position: tuple[str, int] | None = None

    def configure(self, settings: LanguageSettings) -> None:
        self.settings = settings

    async def close(self) -> None:
        self.completers.close()
        self.kernel_completions.close()
        await self.engine.close()

    @property
    def workspace(self) -> Workspace:
        return self._workspace()

    def view(self, uri: str, line: int) -> SourceView | None:
        found = source_view(self.workspace, self.masked, uri, line)
        if found is not None and found.kernel_uri == uri:
            self.last_position = (uri, line)
        if found is not None:
            session = (self.kernels.for_notebook(found.kernel_uri)
                       or self.kernels.for_notebook(unquote(found.kernel_uri)))
            self.engine.use_environment(found.path, session.python if session else None)
        return found

    async def kernel(self, uri: str) -> KernelSession | None:
        """The live kernel of this notebook or script, its completer made fast.

        The first ask of a kernel process first switches its completer (a few ms when
        idle); a kernel that cannot take that at once is asked as it is, and later asks
        never wait for it.
        """
        session = self.kernels.for_notebook(uri) or self.kernels.for_notebook(unquote(uri))
        if session is None or session.state in ("dead", "starting", "restarting"):
            return None
        if session is not None:
            configuring = self.completers.prepare(session)
            if configuring is not None:
                await asyncio.wait({configuring}, timeout=self.settings.kernel_deadline / 2)
        return session

    # -------------------------------------------------------------- document events
    def notebook_opened(self, notebook_uri: str) -> None:
        workspace = self.workspace
        notebook = workspace.get_notebook_document(notebook_uri=notebook_uri)
        if notebook is None:
            return
        program, _ = notebook_program(workspace, self.masked, notebook)
        self.engine.warm(program, *program_location(workspace, notebook.uri))

    def cells_closed(self, uris: list[str]) -> None:
        for uri in uris:
            self.masked.forget(uri)

    def document_opened(self, uri: str) -> None:
        view = self.view(uri, 0)
        if view is not None:
            self.engine.warm(view.program, view.path, view.root)

    def document_changed(self, params: types.DidChangeTextDocumentParams) -> None:
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                self.last_position = (params.text_document.uri, change.range.start.line)

    def document_closed(self, uri: str) -> None:
        self.masked.forget(uri)
