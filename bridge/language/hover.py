"""Hover: the kernel's `inspect_request` on the live object merged with jedi's static help.

Jedi gives the signature and docstring of what the code says; the kernel adds what only
the running program knows (the object's actual type, its value, its length). Both are
asked at once; the kernel is bounded by `hover_deadline`. In a cell of another language
the kernel's inspect text is all there is: its markdown, else its plain text.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from lsprotocol import types

from bridge.language.engine import StaticHelp, word_start
from bridge.language.runtime import RuntimeHelp, askable, parse_inspection

if TYPE_CHECKING:
    from bridge.language.service import LanguageService

_VALUE_LIMIT = 600


async def hover(service: LanguageService, params: types.HoverParams) -> types.Hover | None:
    view = service.view(params.text_document.uri, params.position.line)
    if view is None:
        return None
    cursor = view.cursor(params.position)
    line_text = view.line_text(cursor.line)
    start, end = _word_bounds(line_text, cursor.column)
    if start == end:
        return None
    # Both ask at the word's end, so a cursor anywhere in the name finds the same thing.
    column = end
    cell_offset = cursor.kernel_offset + (end - cursor.column)
    static_call = (service.engine.help(view.program, view.path, view.root,
                                       cursor.program_line, column)
                   if view.jedi else _nothing())
    session = await service.kernel(view.kernel_uri)
    if session is not None and askable(session):
        static, reply = await asyncio.gather(static_call, session.inspect(
            view.cell_text, cell_offset, 0, service.settings.hover_deadline))
        runtime = parse_inspection(reply)
    else:
        static, runtime = await static_call, None
    text = hover_markdown(static, runtime)
    if not text:
        return None
    return types.Hover(
        contents=types.MarkupContent(types.MarkupKind.Markdown, text),
        range=types.Range(view.to_client(cursor.line, start), view.to_client(cursor.line, end)),
    )


async def _nothing() -> StaticHelp | None:
    return None


def _word_bounds(line: str, column: int) -> tuple[int, int]:
    end = column
    while end < len(line) and (line[end].isalnum() or line[end] == "_"):
        end += 1
    return word_start(line, end), end


def _fence(text: str, language: str = "python") -> str:
    fence = "````" if "```" in text else "```"
    return f"{fence}{language}\n{text}\n{fence}"


def runtime_markdown(runtime: RuntimeHelp) -> str:
    """The kernel's view of an object: signature, type and value, then its docstring."""
    return hover_markdown(None, runtime)


def hover_markdown(static: StaticHelp | None, runtime: RuntimeHelp | None) -> str:
    parts: list[str] = []
    if static is not None and static.signatures:
        parts.append(_fence("\n".join(static.signatures)))
    elif runtime is not None and runtime.signature:
        parts.append(_fence(runtime.signature))
    elif static is not None and static.type_hint:
        parts.append(_fence(f"{static.name}: {static.type_hint}"))
    if runtime is not None:
        facts = []
        for name in ("Type", "Length"):
            if runtime.fields.get(name):
                facts.append(f"**{name}:** `{runtime.fields[name]}`")
        if facts:
            parts.append(" · ".join(facts))
        value = runtime.fields.get("String form", "")
        if value:
            if len(value) > _VALUE_LIMIT:
                value = value[:_VALUE_LIMIT] + "\n…"
            parts.append(_fence(value, "text"))
    elif static is not None and not static.signatures and static.full_name:
        parts.append(f"`{static.full_name}` ({static.type})")
    docstring = static.docstring if static is not None and static.docstring else ""
    if not docstring and runtime is not None:
        docstring = runtime.docstring
    if docstring:
        parts.append(docstring)
    if not parts and runtime is not None:
        parts.append(runtime.markdown or _fence(runtime.text.strip("\n"), "text"))
    return "\n\n".join(parts)
