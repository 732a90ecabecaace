"""Signature help: jedi's signatures of the call at the cursor, the kernel's as fallback.

The kernel fallback covers callables only the running program knows (built at run time,
or from modules jedi cannot read), and cells of other languages, which jedi does not
read: the kernel's inspect_request inside a call's parentheses describes the callee, and
where it gives a signature line (IPython's and xeus-python's do) that line is split into
parameters here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from bridge.language.runtime import askable, parse_inspection

if TYPE_CHECKING:
    from bridge.language.service import LanguageService

SIGNATURE_TRIGGERS = ["(", ","]
SIGNATURE_RETRIGGERS = [")"]
_OPEN = "([{"
_CLOSE = ")]}"


async def signature_help(service: LanguageService,
                         params: types.SignatureHelpParams) -> types.SignatureHelp | None:
    view = service.view(params.text_document.uri, params.position.line)
    if view is None:
        return None
    cursor = view.cursor(params.position)
    found = (await service.engine.signatures(view.program, view.path, view.root,
                                             cursor.program_line, cursor.column)
             if view.jedi else None)
    if found:
        return types.SignatureHelp(
            signatures=[
                types.SignatureInformation(
                    label=signature.label,
                    documentation=types.MarkupContent(
                        types.MarkupKind.PlainText, signature.documentation)
                    if signature.documentation else None,
                    parameters=[types.ParameterInformation(label=parameter)
                                for parameter in signature.parameters],
                )
                for signature in found
            ],
            active_signature=0,
            active_parameter=found[0].active_parameter,
        )
    session = await service.kernel(view.kernel_uri)
    if session is None or not askable(session):
        return None
    call = open_call(view.cell_text, cursor.kernel_offset)
    if call is None:
        return None
    paren, argument = call
    runtime = parse_inspection(await session.inspect(
        view.cell_text, paren, 0, service.settings.hover_deadline))
    if runtime is None or runtime.signature is None:
        return None
    label = runtime.signature
    parameters = split_parameters(label)
    return types.SignatureHelp(
        signatures=[types.SignatureInformation(
            label=label,
            documentation=types.MarkupContent(types.MarkupKind.PlainText, runtime.docstring)
            if runtime.docstring else None,
            parameters=[types.ParameterInformation(label=parameter)
                        for parameter in parameters],
        )],
        active_signature=0,
        active_parameter=min(argument, len(parameters) - 1) if parameters else None,
    )


def open_call(code: str, offset: int) -> tuple[int, int] | None:
    """The offset of the innermost unclosed `(` before ``offset``, and the argument index.

    Reads forward so strings (also the unclosed one being typed) and comments are skipped.
    """
    open_brackets: list[list[int | str]] = []  # [bracket, offset, commas]
    quote: str | None = None
    index = 0
    while index < offset:
        char = code[index]
        if quote is not None:
            if char == "\\":
                index += 1
            elif char == "\n" and len(quote) == 1:
                quote = None  # a one-line string left unclosed ends with its line
            elif code.startswith(quote, index):
                index += len(quote) - 1
                quote = None
        elif char in "'\"":
            quote = char * 3 if code.startswith(char * 3, index) else char
            index += len(quote) - 1
        elif char == "#":
            newline = code.find("\n", index)
            index = offset if newline < 0 else newline
            continue
        elif char in _OPEN:
            open_brackets.append([char, index, 0])
        elif char in _CLOSE and open_brackets:
            open_brackets.pop()
        elif char == "," and open_brackets:
            open_brackets[-1][2] = int(open_brackets[-1][2]) + 1
        index += 1
    if not open_brackets or open_brackets[-1][0] != "(":
        return None
    _, paren, commas = open_brackets[-1]
    return int(paren), int(commas)


def split_parameters(signature: str) -> list[str]:
    """`f(a, b=(1, 2), *c) -> int` -> ["a", "b=(1, 2)", "*c"]; "/" and "*" markers kept."""
    start = signature.find("(")
    if start < 0:
        return []
    depth = 0
    parameters: list[str] = []
    current = ""
    for char in signature[start + 1:]:
        if char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            if depth == 0:
                break
            depth -= 1
        if char == "," and depth == 0:
            parameters.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        parameters.append(current.strip())
    return parameters
