"""The kernel's completions: one ask in flight per kernel, a late reply kept for the next.

A kernel slower than the completion deadline (bash_kernel's `compgen` takes ~130 ms)
would otherwise never make an answer. Its reply, landing after the answer that asked
went out (incomplete, so the editor asks again on the next keystroke), serves the next
answers while they complete the same word further, filtered by what was typed since.
One ask at a time per kernel: fast typing never queues work that the kernel would do
long after it mattered. A reply that came in time is never reused, so a kernel that
stops answering adds nothing to later answers.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bridge.kernels.session import KernelSession
from bridge.language.runtime import RuntimeCompletion, parse_completions

logger = logging.getLogger(__name__)

# How long an ask may run on after the answer that made it went out.
LATE_WINDOW = 3.0

KernelKey = tuple[str, int]  # kernel id, incarnation: a restart forgets what was kept


@dataclass(frozen=True)
class Word:
    """Where the kernel was asked: the cell without the word typed, the word's start
    (code points), and the part of the word typed so far."""

    key: tuple[str, int]
    typed: str

    @classmethod
    def at(cls, code: str, cursor: int, word_offset: int) -> Word:
        return cls((code[:word_offset] + code[cursor:], word_offset), code[word_offset:cursor])

    @property
    def cursor(self) -> int:
        return self.key[1] + len(self.typed)

    def extends(self, earlier: Word) -> bool:
        return self.key == earlier.key and self.typed.startswith(earlier.typed)


@dataclass
class _Ask:
    word: Word
    task: asyncio.Task[list[RuntimeCompletion] | None]
    wanted_until: float = 0.0  # the last deadline of an answer waiting for it (loop time)


class KernelCompletions:
    def __init__(self) -> None:
        self._asking: dict[KernelKey, _Ask] = {}
        self._late: dict[KernelKey, tuple[Word, list[RuntimeCompletion]]] = {}

    async def complete(self, session: KernelSession, code: str, cursor: int,
                       word_offset: int, deadline: float,
                       ) -> tuple[list[RuntimeCompletion] | None, bool]:
        """The kernel's completions within ``deadline`` (None: none), and whether they
        are from this moment (False: from a late reply to an earlier keystroke)."""
        kernel: KernelKey = (session.kernel_id, session.incarnation)
        word = Word.at(code, cursor, word_offset)
        loop = asyncio.get_running_loop()
        end = loop.time() + deadline
        while True:
            ask = self._asking.get(kernel)
            if ask is None or ask.task.done():
                ask = self._send(kernel, session, code, cursor, word)
            ask.wanted_until = max(ask.wanted_until, end)
            await asyncio.wait({ask.task}, timeout=max(0.0, end - loop.time()))
            if not ask.task.done():
                break
            found = ask.task.result()
            if found is not None and word.extends(ask.word):
                return extended(found, ask.word, word, code), True
            if ask.word == word or loop.time() >= end:
                break  # asked for this very word, or no time left to ask again
        late = self._late.get(kernel)
        if late is not None and word.extends(late[0]):
            return extended(late[1], late[0], word, code), False
        return None, False

    def _send(self, kernel: KernelKey, session: KernelSession, code: str, cursor: int,
              word: Word) -> _Ask:
        ask = _Ask(word, asyncio.create_task(self._ask(session, code, cursor)))
        self._asking[kernel] = ask

        def landed(task: asyncio.Task[list[RuntimeCompletion] | None]) -> None:
            found = None if task.cancelled() or task.exception() else task.result()
            if found is None:
                return
            if asyncio.get_running_loop().time() > ask.wanted_until:
                self._late[kernel] = (word, found)
            else:
                self._late.pop(kernel, None)  # a reply in time supersedes a late one

        ask.task.add_done_callback(landed)
        return ask

    @staticmethod
    async def _ask(session: KernelSession, code: str,
                   cursor: int) -> list[RuntimeCompletion] | None:
        try:
            reply = await session.complete(code, cursor, LATE_WINDOW)
        except Exception:
            logger.warning("kernel completion failed", exc_info=True)
            return None
        return None if reply is None else parse_completions(reply)

    def close(self) -> None:
        for ask in self._asking.values():
            ask.task.cancel()
        self._asking.clear()
        self._late.clear()


def extended(found: list[RuntimeCompletion], asked: Word, now: Word,
             code: str) -> list[RuntimeCompletion]:
    """Completions given for ``asked``, moved to ``now`` (more of the word typed since):
    offsets past the old cursor move with the text, and only names that still match
    what is typed are left."""
    if now == asked:
        return found
    shift = now.cursor - asked.cursor
    moved = []
    for completion in found:
        end = completion.end + shift if completion.end >= asked.cursor else completion.end
        if completion.text.lower().startswith(code[completion.start:now.cursor].lower()):
            moved.append(RuntimeCompletion(completion.text, completion.start, end,
                                           completion.type, completion.signature))
    return moved
