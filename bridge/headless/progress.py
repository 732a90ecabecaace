"""Progress of a headless run on stderr: a redrawn bar on a terminal, plain lines otherwise
(and always when several notebooks run at once or outputs are logged, which a bar would
garble); `OutputLog` echoes cell outputs there as they arrive (--log-output)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import time
from typing import Any, TextIO

BAR_WIDTH = 24
TICK_SECONDS = 1.0


class Progress:
    """Shows cell i/n, the time since the run began, and the current cell's first line."""

    def __init__(self, stream: TextIO, total: int, interactive: bool | None = None,
                 label: str = "") -> None:
        self.stream = stream
        self.total = total
        self.interactive = stream.isatty() if interactive is None else interactive
        self.label = f"{label}: " if label else ""  # the notebook's name, when several run
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
            self._print(f"{self.label}[{position}/{self.total}] {_clock(self.elapsed)} "
                        f"{self._line}")

    def message(self, text: str) -> None:
        """A line of its own (a failure, the summary), above the bar on a terminal."""
        if self.interactive:
            self.stream.write("\r\x1b[K")
        self._print(self.label + text)
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


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def plain(text: str) -> str:
    """Text without terminal colour codes (kernels colour their tracebacks)."""
    return ANSI.sub("", text)


class OutputLog:
    """Cell outputs echoed to a stream as they arrive: stream text, and the text/plain of
    results, displays and errors. It is the `Rpc` that `run_streamed` sends batched
    `kernel/output` notifications to, so it sees outputs as a client would."""

    def __init__(self, stream: TextIO, label: str = "") -> None:
        self.stream = stream
        self.prefix = f"{label}| " if label else ""
        self.colour = stream.isatty()
        # with a label, a line not ended yet waits, so that the label starts every line
        self._held = ""
        self._open = False  # without one, whether the last text left a line open

    def notify(self, method: str, params: Any | None = None) -> None:
        ops = params.get("ops", []) if isinstance(params, dict) else []
        for op in ops:
            self._write(_op_text(op))

    def send_request_async(self, method: str, params: Any | None = None,
                           msg_id: str | None = None) -> Any:
        raise RuntimeError("a headless run answers no requests")  # input() is not offered

    def end_cell(self) -> None:
        """Ends a line the cell left open, so what follows starts a line of its own."""
        if self._held or self._open:
            self._write("\n")

    def _write(self, text: str) -> None:
        if not text:
            return
        if not self.colour:
            text = plain(text)
        if self.prefix:
            *lines, self._held = (self._held + text).split("\n")
            text = "".join(f"{self.prefix}{line}\n" for line in lines)
        else:
            self._open = not text.endswith("\n")
        if text:
            self.stream.write(text)
            self.stream.flush()


def _op_text(op: dict[str, Any]) -> str:
    if op.get("op") == "appendText":
        return str(op.get("text", ""))
    output = op.get("output")
    if op.get("op") != "append" or not isinstance(output, dict):
        return ""  # a display update or a clear: nothing new to read
    if output.get("output_type") == "error":
        # bash names no error and sends no traceback: its evalue is the exit status
        traceback = output.get("traceback") or [
            f"{output.get('ename') or 'error'}: {output.get('evalue', '')}"]
        return "\n".join(str(line) for line in traceback) + "\n"
    text = output.get("data", {}).get("text/plain")
    if isinstance(text, list):
        text = "".join(text)
    return f"{text}\n" if isinstance(text, str) and text else ""
