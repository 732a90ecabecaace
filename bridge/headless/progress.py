"""Progress of a headless run on stderr: a redrawn bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from typing import TextIO

BAR_WIDTH = 24
TICK_SECONDS = 1.0


class Progress:
    """Shows cell i/n, the time since the run began, and the current cell's first line."""

    def __init__(self, stream: TextIO, total: int, interactive: bool | None = None) -> None:
        self.stream = stream
        self.total = total
        self.interactive = stream.isatty() if interactive is None else interactive
        self.began = time.monotonic()
        self._line = ""
        self._position = 0
        self._ticker: asyncio.Task[None] | None = None

    def cell_started(self, position: int, cell_number: int, source: str) -> None:
        """`position` counts executed cells (1..total); `cell_number` is the notebook's."""
        self._position = position
        self._line = f"cell {cell_number}: {first_line(source)}"
        if self.interactive:
            self._draw()
            if self._ticker is None:
                self._ticker = asyncio.get_running_loop().create_task(self._tick())
        else:
            self._print(f"[{position}/{self.total}] {_clock(self.elapsed)} {self._line}")

    def message(self, text: str) -> None:
        """A line of its own (a failure, the summary), above the bar on a terminal."""
        if self.interactive:
            self.stream.write("\r\x1b[K")
        self._print(text)
        if self.interactive and self._position and self._ticker is not None:
            self._draw()

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        if self.interactive and self._position:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.began

    def _draw(self) -> None:
        done = (self._position - 1) * BAR_WIDTH // max(self.total, 1)
        bar = "#" * done + "-" * (BAR_WIDTH - done)
        text = f"[{bar}] {self._position}/{self.total} {_clock(self.elapsed)} {self._line}"
        width = shutil.get_terminal_size((100, 20)).columns - 1
        self.stream.write("\r\x1b[K" + text[:width])
        self.stream.flush()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            self._draw()

    def _print(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


def first_line(source: str, limit: int = 60) -> str:
    """The cell's first non-blank line, shortened to `limit` characters."""
    line = next((line.strip() for line in source.splitlines() if line.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes:d}:{seconds:02d}"
