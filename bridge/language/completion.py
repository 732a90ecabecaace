"""Completion: jedi's names united with the kernel's, ranked, answered within a deadline.

Both are asked at once: jedi on its thread, the kernel with a `complete_request`. The
kernel gets `kernel_deadline`; jedi gets `jedi_grace` past the kernel's reply (or past
the deadline when the kernel gave none: busy without subshells, or slow). What has come
by then goes out, marked incomplete if anything is missing; jedi's run goes on and the
next keystroke finds it in the cache. So with a kernel the answer takes at most
deadline + grace (100 ms by default), whatever the kernel does. Without a kernel (none
started, or dead) jedi is all there is, and the answer waits for it. A cell of another
language than Python has no jedi: the kernel's names, within the deadline, are the answer.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from bridge.language.contexts import CompletionContext
from bridge.language.engine import StaticCompletions, word_start
from bridge.language.hover import runtime_markdown
from bridge.language.runtime import RuntimeCompletion, askable, parse_inspection

if TYPE_CHECKING:
    from bridge.language.service import LanguageService

logger = logging.getLogger(__name__)

Kind = types.CompletionItemKind
KINDS: dict[str, types.CompletionItemKind] = {
    "module": Kind.Module, "class": Kind.Class, "instance": Kind.Variable,
    "function": Kind.Function, "param": Kind.Variable, "path": Kind.File,
    "keyword": Kind.Keyword, "property": Kind.Property, "statement": Kind.Variable,
    "magic": Kind.Function, "dict key": Kind.Value, "method": Kind.Method,
    "attribute": Kind.Property,
}
TRIGGER_CHARACTERS = [".", "["]


Point = tuple[int, int]  # (line, character) in the client's position encoding


@dataclass
class Candidate:
    label: str
    start: Point
    end: Point
    type: str | None
    detail: str | None
    sources: set[str] = field(default_factory=set)

    @property
    def rank(self) -> tuple[int, str]:
        name = self.label.lstrip("%!'\"")
        if self.label.endswith("="):
            group = 0  # a keyword argument of the call being typed
        elif name.startswith("__"):
            group = 3
        elif name.startswith("_"):
            group = 2
        else:
            group = 1
        return group, name.lower()


async def complete(service: LanguageService,
                   params: types.CompletionParams) -> dict[str, Any] | None:
    """An LSP CompletionList, as a plain dict: hundreds of items skip cattrs."""
    view = service.view(params.text_document.uri, params.position.line)
    if view is None:
        return None
    cursor = view.cursor(params.position)
    settings = service.settings
    static: StaticCompletions | None = None
    static_future: asyncio.Future[StaticCompletions] | None = None
    if view.jedi:
        program_line = view.program.split("\n")[cursor.program_line]
        prefix = program_line[word_start(program_line, cursor.column):cursor.column]
        key, static = service.engine.cached_completions(
            view.program, view.path, cursor.program_line, cursor.column)
        if static is None:
            static_future = service.engine.completions(key, view.root)
    else:
        line_text = view.line_text(cursor.line)
        prefix = line_text[word_start(line_text, cursor.column):cursor.column]
    word_offset = cursor.kernel_offset - len(prefix)
    session = await service.kernel(view.kernel_uri)
    kernel_task: asyncio.Task[tuple[list[RuntimeCompletion] | None, bool]] | None = None
    if session is not None and askable(session):
        kernel_task = asyncio.create_task(service.kernel_completions.complete(
            session, view.cell_text, cursor.kernel_offset, word_offset,
            settings.kernel_deadline))

    reply, static_late = await _gather(static_future, kernel_task, settings.kernel_deadline,
                                       settings.jedi_grace)
    if static_future is not None and static_future.done() and not static_future.cancelled():
        static = static_future.result()
    runtime, fresh = reply if reply is not None else (None, False)

    candidates: dict[str, Candidate] = {}
    if static is not None:
        start = _point(view.to_client(cursor.line, cursor.column - len(prefix)))
        end = _point(view.to_client(cursor.line, cursor.column))
        for item in static.matching(prefix):
            candidates.setdefault(item.insert, Candidate(
                item.insert, start, end, item.type, item.type, {"jedi"}))
    runtime_code: dict[str, str] = {}
    points: dict[int, Point] = {}
    for found in runtime or []:
        found = _from_word_start(found, view.cell_text, word_offset)
        for offset in (found.start, found.end):
            if offset not in points:
                points[offset] = _point(view.kernel_offset_to_client(offset))
        _add_runtime(candidates, found, points[found.start], points[found.end])
        if found.text in candidates and candidates[found.text].sources == {"kernel"}:
            runtime_code[found.text] = view.cell_text[:found.start] + found.text

    token = service.contexts.remember(CompletionContext(static, view.kernel_uri, runtime_code))
    ordered = sorted(candidates.values(), key=lambda candidate: candidate.rank)
    cursor_point = (params.position.line, params.position.character)
    items = [_item(candidate, index, token, cursor_point)
             for index, candidate in enumerate(ordered)]
    # a kernel that could not be asked now (busy), or gave nothing of this moment, may
    # answer the next keystroke's ask
    kernel_missing = session is not None and (kernel_task is None or not fresh)
    incomplete = (view.jedi and static is None) or static_late or kernel_missing
    return {"isIncomplete": incomplete, "items": items}


def _point(position: types.Position) -> Point:
    return position.line, position.character


KernelAnswer = tuple[list[RuntimeCompletion] | None, bool]  # completions, from this moment


async def _gather(
    static: asyncio.Future[StaticCompletions] | None,
    kernel: asyncio.Task[KernelAnswer] | None,
    kernel_deadline: float,
    jedi_grace: float,
) -> tuple[KernelAnswer | None, bool]:
    """The kernel's reply (None if it gave none in time) and whether jedi was cut off.

    With a kernel asked, the answer never waits past its reply plus the grace, nor past
    deadline plus grace when it gives no reply. Without one, jedi is all there is.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    pending: set[asyncio.Future[Any]] = {task for task in (static, kernel) if task is not None}
    answered_at: float | None = None
    reply: KernelAnswer | None = None
    while pending:
        now = loop.time()
        timeout: float | None
        if kernel is None:
            timeout = None
        elif kernel in pending:
            # Slack past the kernel layer's own timeout, which ends the task by then.
            timeout = max(0.0, started + kernel_deadline + 0.01 - now)
        elif reply is not None and answered_at is not None:
            timeout = max(0.0, answered_at + jedi_grace - now)
        else:
            timeout = max(0.0, started + kernel_deadline + jedi_grace - now)
        done, _ = await asyncio.wait(pending, timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if not done:
            if kernel is not None and kernel in pending:
                pending.discard(kernel)
                kernel.cancel()
                continue
            return reply, True
        pending -= done
        if kernel is not None and kernel in done:
            answered_at = loop.time()
            try:
                reply = kernel.result()
            except Exception:
                logger.warning("kernel completion failed", exc_info=True)
                reply = None
    return reply, False


def _from_word_start(found: RuntimeCompletion, code: str, word_offset: int) -> RuntimeCompletion:
    """`.alpha` from the dot (IPython without jedi) -> `alpha` from the word, like jedi's."""
    lead = code[found.start:word_offset]
    if found.start < word_offset <= found.end and lead == "." and found.text.startswith(lead):
        return RuntimeCompletion(found.text[len(lead):], word_offset, found.end, found.type,
                                 found.signature)
    return found


def _add_runtime(candidates: dict[str, Candidate], found: RuntimeCompletion, start: Point,
                 end: Point) -> None:
    existing = candidates.get(found.text)
    if existing is not None:
        existing.sources.add("kernel")
        existing.type = existing.type or found.type
        if found.signature:
            existing.detail = found.signature
        return
    candidates[found.text] = Candidate(found.text, start, end, found.type,
                                       found.signature or found.type, {"kernel"})


def _item(candidate: Candidate, index: int, token: int, cursor: Point) -> dict[str, Any]:
    item: dict[str, Any] = {"label": candidate.label, "sortText": f"{index:05d}",
                            "data": {"token": token, "sources": sorted(candidate.sources)}}
    kind = KINDS.get(candidate.type or "")
    if kind is not None:
        item["kind"] = int(kind)
    if candidate.detail:
        item["detail"] = candidate.detail
    (start_line, start_character), (end_line, end_character) = candidate.start, candidate.end
    if start_line == end_line == cursor[0] and start_character <= cursor[1] <= end_character:
        item["textEdit"] = {"range": {"start": {"line": start_line, "character": start_character},
                                      "end": {"line": end_line, "character": end_character}},
                            "newText": candidate.label}
    else:
        item["insertText"] = candidate.label
    return item


async def resolve(service: LanguageService, item: types.CompletionItem) -> types.CompletionItem:
    """Documentation for one item: jedi's docstring, or the kernel's for runtime names."""
    data = item.data if isinstance(item.data, dict) else {}
    context = service.contexts.recall(data.get("token"))
    label = item.label
    if context is None:
        return item
    documentation: str | None = None
    if context.static is not None:
        name = label.rstrip("=")
        documentation = await service.engine.documentation(context.static, name)
    code = context.runtime_code.get(label)
    if not documentation and code is not None:
        session = await service.kernel(context.kernel_uri)
        if session is not None and askable(session):
            found = parse_inspection(await session.inspect(
                code, len(code), 0, service.settings.hover_deadline))
            documentation = runtime_markdown(found) if found else None
    if documentation:
        item.documentation = types.MarkupContent(types.MarkupKind.Markdown, documentation)
    return item
