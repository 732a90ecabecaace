"""What completionItem/resolve needs to find again: the context of recent answers."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from bridge.language.engine import StaticCompletions

CONTEXTS_KEPT = 4


@dataclass
class CompletionContext:
    """What completionItem/resolve needs to document one answer's items."""

    static: StaticCompletions | None
    kernel_uri: str
    runtime_code: dict[str, str]  # label -> the cell's code ending in that completion


class CompletionContexts:
    """The contexts of the last few completion answers, by token."""

    def __init__(self, kept: int = CONTEXTS_KEPT) -> None:
        self._kept = kept
        self._contexts: OrderedDict[int, CompletionContext] = OrderedDict()
        self._next_token = 0

    def remember(self, context: CompletionContext) -> int:
        """A token for completionItem/resolve to find this answer's context again."""
        self._next_token += 1
        self._contexts[self._next_token] = context
        while len(self._contexts) > self._kept:
            self._contexts.popitem(last=False)
        return self._next_token

    def recall(self, token: Any) -> CompletionContext | None:
        return self._contexts.get(token) if isinstance(token, int) else None
