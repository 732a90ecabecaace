"""From an LSP document and position to what jedi and the kernel each need to see.

A notebook's Python cells, in order and masked, are one program for jedi; the cell's
own text (IPython syntax and all) is what the kernel completes in. A code cell of any
other language is the kernel's alone: no program for jedi. A `# %%` script is its own
program, and the kernel sees the cell around the cursor. Nothing is written to disk.

Positions: the client counts in its negotiated encoding (UTF-16 by default), jedi in
code points per line, Jupyter in code points from the start of the cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from lsprotocol import types
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument, Workspace
from pygls.workspace.position_codec import PositionCodec, ServerTextPosition

from bridge.language.masking import mask_cell
from bridge.language.percent import cell_at_line, split_cells

NOTEBOOK_TYPES = ("nbbridge-notebook", "jupyter-notebook")
PYTHON_LANGUAGES = ("python", "ipython")
# code cells that hold no code for any kernel (VS Code's raw cells are code cells)
NOT_CODE_LANGUAGES = ("raw", "markdown", "plaintext")


@dataclass(frozen=True)
class Cursor:
    """One position, in every coordinate system the features need."""

    line: int  # document line
    column: int  # code points into the document line
    program_line: int  # jedi's line (0-based) in the joined program
    kernel_offset: int  # code points from the start of the kernel's cell text


@dataclass
class SourceView:
    """One document as jedi and the kernel see it."""

    uri: str
    lines: Sequence[str]  # the document's lines, as the client counts positions in them
    codec: PositionCodec
    program: str  # masked Python for jedi
    path: str | None  # the program's file name for jedi (never written)
    root: str | None  # the project directory for imports
    first_line: int  # program line of the document's line 0
    kernel_uri: str  # whose kernel answers: the notebook's, or the script's own
    cell_text: str  # what the kernel sees
    cell_first_line: int  # document line of the kernel cell's first line
    jedi: bool = True  # False: a cell of another language, which only the kernel reads

    def cursor(self, position: types.Position) -> Cursor:
        if position.line >= len(self.lines):
            # pygls would clamp to the end of the previous line; an empty last line is real.
            line, column = position.line, 0
        else:
            found = self.codec.position_from_client_units(
                self.lines, types.Position(position.line, position.character))
            line, column = found.line, found.character
        cell_lines = self.cell_text.split("\n")
        cell_line = min(max(line - self.cell_first_line, 0), len(cell_lines) - 1)
        offset = sum(len(text) + 1 for text in cell_lines[:cell_line])
        offset += min(column, len(cell_lines[cell_line]))
        return Cursor(line, column, self.first_line + line, offset)

    def line_text(self, line: int) -> str:
        return self.lines[line].rstrip("\r\n") if line < len(self.lines) else ""

    def to_client(self, line: int, column: int) -> types.Position:
        return self.codec.position_to_client_units(self.lines, ServerTextPosition(line, column))

    def kernel_offset_to_client(self, offset: int) -> types.Position:
        before = self.cell_text[:offset].split("\n")
        return self.to_client(self.cell_first_line + len(before) - 1, len(before[-1]))


class MaskedCells:
    """Masked text per cell, recomputed only when the cell's text changes."""

    def __init__(self) -> None:
        self._masked: dict[str, tuple[str, str]] = {}

    def get(self, uri: str, source: str) -> str:
        known = self._masked.get(uri)
        if known is not None and known[0] is source:
            return known[1]
        masked = mask_cell(source)
        self._masked[uri] = (source, masked)
        return masked

    def forget(self, uri: str) -> None:
        self._masked.pop(uri, None)


def _is_python(document: TextDocument) -> bool:
    language = (document.language_id or "").lower()
    if language:
        return language in PYTHON_LANGUAGES
    return unquote(document.uri).endswith((".py", ".ipy"))


def source_view(workspace: Workspace, masked: MaskedCells, uri: str,
                line: int) -> SourceView | None:
    """The view for a notebook cell or a Python script; None for anything else.

    ``line`` picks the kernel's cell in a `# %%` script.
    """
    notebook = workspace.get_notebook_document(cell_uri=uri)
    if notebook is not None:
        return _notebook_view(workspace, masked, notebook, uri)
    document = workspace.text_documents.get(unquote(uri))
    if document is None or not _is_python(document):
        return None
    return _script_view(workspace, masked, document, line)


def notebook_program(workspace: Workspace, masked: MaskedCells,
                     notebook: types.NotebookDocument) -> tuple[str, dict[str, int]]:
    """The notebook's Python cells as one masked program, and each cell's first line."""
    parts: list[str] = []
    starts: dict[str, int] = {}
    line = 0
    for cell in notebook.cells:
        if cell.kind != types.NotebookCellKind.Code:
            continue
        document = workspace.text_documents.get(unquote(cell.document))
        if document is None or not _is_python(document):
            continue
        text = masked.get(document.uri, document.source)
        starts[unquote(cell.document)] = line
        parts.append(text)
        line += text.count("\n") + 1
    return "\n".join(parts), starts


def _notebook_view(workspace: Workspace, masked: MaskedCells,
                   notebook: types.NotebookDocument, uri: str) -> SourceView | None:
    document = workspace.text_documents.get(unquote(uri))
    if document is None:
        return None
    if not _is_python(document):
        language = (document.language_id or "").lower()
        if not _is_code_cell(notebook, uri) or language in NOT_CODE_LANGUAGES:
            return None
        return SourceView(uri, document.lines, workspace.position_codec, "", None, None, 0,
                          notebook.uri, document.source, 0, jedi=False)
    program, starts = notebook_program(workspace, masked, notebook)
    first_line = starts.get(unquote(uri))
    if first_line is None:
        return None
    path, root = program_location(workspace, notebook.uri)
    return SourceView(uri, document.lines, workspace.position_codec, program, path, root,
                      first_line, notebook.uri, document.source, 0)


def _is_code_cell(notebook: types.NotebookDocument, uri: str) -> bool:
    wanted = unquote(uri)
    return any(unquote(cell.document) == wanted and cell.kind == types.NotebookCellKind.Code
               for cell in notebook.cells)


def _script_view(workspace: Workspace, masked: MaskedCells, document: TextDocument,
                 line: int) -> SourceView:
    source = document.source
    path, root = program_location(workspace, document.uri)
    cell_text, cell_first_line = source, 0
    cell = cell_at_line(split_cells(source), line)
    if cell is not None and line >= cell.start:
        cell_text, cell_first_line = cell.text, cell.start
    return SourceView(document.uri, document.lines, workspace.position_codec,
                      masked.get(document.uri, source), path, root, 0,
                      document.uri, cell_text, cell_first_line)


def program_location(workspace: Workspace, uri: str) -> tuple[str | None, str | None]:
    """Jedi's file name for a notebook or script, and its project root (for imports)."""
    path = to_fs_path(uri) if uri.startswith("file:") else None
    root = workspace.root_path
    if root and path and path.startswith(str(root).rstrip("/") + "/"):
        return path, str(root)
    return path, None
