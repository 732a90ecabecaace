"""The runtime half of the language features: the notebook's kernel, when it answers.

The kernel layer asks on an ipykernel >= 7 subshell when the kernel has them, so these
calls answer while a cell runs; every call is bounded by a deadline and a missing, busy
or dead kernel simply yields nothing.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from bridge.kernels.session import KernelSession

logger = logging.getLogger(__name__)

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# a character, backspace: the overstrike of R's help pages (`_\bC` underlines C)
_OVERSTRIKE = re.compile(r".\x08")
_FIELD = re.compile(r"^(?P<name>[A-Z][A-Za-z ]*):(?P<value>.*)$")
_KNOWN_FIELDS = frozenset({
    "Type", "String form", "Length", "File", "Docstring", "Signature", "Init signature",
    "Class docstring", "Init docstring", "Call signature", "Call docstring", "Source",
    "Namespace", "Subclasses",
})


# IPython's completer can run jedi itself; jedi already runs in the bridge, and without it
# the kernel answers in a few ms (runtime attributes, dict keys, magics, paths) instead of
# tens to hundreds.
_RUNTIME_ONLY_COMPLETER = "get_ipython().Completer.use_jedi = False"
_CONFIGURE_TIMEOUT = 600.0


class KernelCompleters:
    """Puts each IPython kernel's completer in its runtime-only mode, once per process."""

    def __init__(self) -> None:
        self._configured: dict[tuple[str, int], asyncio.Task[None]] = {}

    def prepare(self, session: KernelSession) -> asyncio.Task[None] | None:
        """The configuring task, when this call started it (first ask of an IPython kernel
        process); None when it was started before or the kernel is not IPython."""
        if session.kernel_info.get("implementation") != "ipython":
            return None
        key = (session.kernel_id, session.incarnation)
        if key in self._configured:
            return None
        task = self._configured[key] = asyncio.create_task(self._configure(session))
        return task

    async def _configure(self, session: KernelSession) -> None:
        try:
            await asyncio.wait_for(session.execute_silently(_RUNTIME_ONLY_COMPLETER),
                                   _CONFIGURE_TIMEOUT)
        except Exception:
            logger.info("kernel %s: completer not configured", session.kernel_id,
                        exc_info=True)

    def close(self) -> None:
        for task in self._configured.values():
            task.cancel()


def askable(session: KernelSession) -> bool:
    """Whether the kernel may be asked to complete or inspect now.

    While a cell runs, only IPython's completer is made to answer beside it (on a
    subshell). Other kernels built on ipykernel 7 list subshells too, but their
    introspection can share the running cell's state: bash_kernel's completer types
    `compgen` into the very bash that runs the cell, whose output then gets the list.
    """
    return session.state != "busy" or session.kernel_info.get("implementation") == "ipython"


@dataclass(frozen=True)
class RuntimeCompletion:
    text: str
    start: int  # code points in the kernel's cell text
    end: int
    type: str | None
    signature: str | None


def parse_completions(reply: dict[str, Any] | None) -> list[RuntimeCompletion]:
    """A Jupyter complete_reply as completions, with IPython's types where it sent them."""
    if not reply or reply.get("status") != "ok":
        return []
    start, end = int(reply.get("cursor_start", 0)), int(reply.get("cursor_end", 0))
    metadata = reply.get("metadata") or {}
    typed = metadata.get("_jupyter_types_experimental")
    if isinstance(typed, list) and typed:
        return [
            RuntimeCompletion(
                str(entry.get("text", "")), int(entry.get("start", start)),
                int(entry.get("end", end)),
                None if entry.get("type") in (None, "<unknown>") else str(entry["type"]),
                str(entry.get("signature") or "") or None,
            )
            for entry in typed if isinstance(entry, dict) and entry.get("text")
        ]
    return [RuntimeCompletion(str(match), start, end, None, None)
            for match in reply.get("matches", []) if match]


@dataclass
class RuntimeHelp:
    """An inspect_reply: its plain text, split into IPython's fields ("Type", "Docstring",
    ...) where it has them, and the kernel's own markdown if it sent some."""

    fields: dict[str, str] = field(default_factory=dict)
    text: str = ""
    markdown: str = ""

    @property
    def signature(self) -> str | None:
        for name in ("Signature", "Init signature", "Call signature"):
            if self.fields.get(name):
                return self.fields[name]
        return None

    @property
    def docstring(self) -> str:
        for name in ("Docstring", "Class docstring", "Init docstring"):
            value = self.fields.get(name, "")
            if value and value != "<no docstring>":
                return value
        return ""


def strip_ansi(text: str) -> str:
    return _OVERSTRIKE.sub("", _ANSI.sub("", text))


def parse_inspection(reply: dict[str, Any] | None) -> RuntimeHelp | None:
    if not reply or reply.get("status") != "ok" or not reply.get("found"):
        return None
    data = reply.get("data") or {}
    text = strip_ansi(str(data.get("text/plain", "")))
    markdown = str(data.get("text/markdown", "")).strip()
    if not text.strip() and not markdown:
        return None
    fields: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.split("\n"):
        match = _FIELD.match(line)
        if match is not None and match.group("name") in _KNOWN_FIELDS:
            current = match.group("name")
            fields[current] = [match.group("value").strip()]
        elif current is not None:
            fields[current].append(line)
    joined = {name: "\n".join(lines).strip() for name, lines in fields.items()}
    return RuntimeHelp(joined, text, markdown)
