"""Exporting notebooks through nbconvert; PDF by printing nbconvert's HTML with Chromium.

nbconvert's own PDF needs a TeX installation and its `webpdf` downloads a browser at
run time. Here PDF is the HTML export printed by the system's headless Chromium (Debian
package `chromium`), offline: every host name fails to resolve, so a page that asks for
a CDN script (MathJax, require.js) prints at once instead of waiting on the network.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from pygls import uris

from bridge.errors import BridgeError, ErrorCode, require
from bridge.notebook.files import (
    check_writable,
    parse_notebook,
    path_param,
    read_text,
    write_atomically,
)
from bridge.notebook.store import NotebookStore

FORMATS: dict[str, str] = {
    "html": "html",
    "pdf": "html",
    "python": "python",
    "script": "script",
    "markdown": "markdown",
    "slides": "slides",
    "rst": "rst",
    "asciidoc": "asciidoc",
    "latex": "latex",
}
"""Export format -> the nbconvert exporter that writes it (PDF prints the HTML)."""

logger = logging.getLogger(__name__)
# nbconvert warns about its own HTML (e.g. images without alt text): nothing a user acts on.
_NBCONVERT_LOG = logging.getLogger("bridge.export.nbconvert")
_NBCONVERT_LOG.setLevel(logging.ERROR)

CHROMIUM_NAMES = ("chromium", "chromium-browser")
CHROMIUM_TIMEOUT_SECONDS = 180
_CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--no-pdf-header-footer", "--host-resolver-rules=MAP * ~NOTFOUND",
)


def export_file(
    source: Path, to: str, output: Path | None = None, text: str | None = None,
) -> dict[str, Any]:
    """Export the notebook at `source` (or `text`, its unsaved content) to format `to`.

    Writes the result (and any extracted images) atomically; returns the written paths.
    """
    exporter_name = _exporter_name(to)
    chromium = find_chromium() if to == "pdf" else ""
    source = source.absolute()
    output = output.absolute() if output is not None else None
    if text is None:
        text = read_text(source)
    # a clear error for what is no notebook
    parse_notebook(text, NotebookStore(), source, lossless=False)
    import nbformat

    ensure_nbconvert()
    from nbconvert.exporters import get_exporter

    node = nbformat.reads(text, as_version=4)
    exporter = get_exporter(exporter_name)(log=_NBCONVERT_LOG)
    if to == "pdf":
        exporter.embed_images = True  # relative <img> paths do not survive the temp dir
    extension = ".pdf" if to == "pdf" else exporter.file_extension
    target = output or _default_output(source, extension)
    check_writable(target)
    resources: dict[str, Any] = {
        "metadata": {"name": source.stem, "path": str(source.parent)},
        "unique_key": target.stem.removesuffix(".slides"),
        "output_files_dir": f"{target.stem.removesuffix('.slides')}_files",
    }
    try:
        body, resources = exporter.from_notebook_node(node, resources=resources)
    except Exception as exc:
        raise BridgeError(ErrorCode.EXPORT_FAILED,
                          f"nbconvert could not export to {to}: {_one_line(exc)}") from None
    if output is None and to not in ("pdf", "slides"):
        # ScriptExporter picks the extension by kernel language (.py, .R, .jl ...).
        target = _default_output(source, resources.get("output_extension") or extension)
    if target.resolve() == source.resolve():
        raise BridgeError(ErrorCode.EXPORT_FAILED,
                          f"exporting to {target} would overwrite the notebook itself")
    data = _print_pdf(chromium, body) if to == "pdf" else body.encode("utf-8")
    extra = []
    for name, content in (resources.get("outputs") or {}).items():
        path = target.parent / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, content)
        extra.append(str(path))
    write_atomically(target, data)
    return {"path": str(target), "uri": uris.from_fs_path(str(target)), "format": to,
            "bytes": len(data), "files": extra}


def ensure_nbconvert() -> None:
    """nbconvert is the `export` extra, not needed to serve notebooks: installed into the
    bridge's own environment the first time an export needs it (from the wheels folder
    that NBBRIDGE_WHEELS names, where the editor extension carries them, else from the
    package index pip is configured with)."""
    if importlib.util.find_spec("nbconvert") is not None:
        return
    wheels = os.environ.get("NBBRIDGE_WHEELS")
    where = ["--no-index", "--find-links", wheels] if wheels else []
    command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check",
               *where, "nbconvert>=7.16"]
    logger.warning("export needs nbconvert, which is not installed: %s", " ".join(command))
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    importlib.invalidate_caches()
    if done.returncode != 0 or importlib.util.find_spec("nbconvert") is None:
        said = (done.stdout + done.stderr).strip().splitlines()[-5:]
        raise BridgeError(ErrorCode.EXPORT_FAILED,
                          f"export needs nbconvert, and installing it into {sys.prefix} "
                          f"failed (pip exited with code {done.returncode}): "
                          + " / ".join(said))
    logger.warning("installed nbconvert into %s", sys.prefix)


async def export_request(params: Any) -> dict[str, Any]:
    """The `notebook/export` request: nbconvert and Chromium work off the event loop."""
    source = path_param(params, "uri")
    to = require(params, "format", str)
    output = path_param(params, "outputUri") if params.get("outputUri") is not None else None
    text = require(params, "content", str) if params.get("content") is not None else None
    return await asyncio.to_thread(export_file, source, to, output, text)


def find_chromium() -> str:
    for name in CHROMIUM_NAMES:
        if found := shutil.which(name):
            return found
    raise BridgeError(
        ErrorCode.EXPORT_FAILED,
        "PDF export needs Chromium, which is not installed: install Debian package chromium "
        "(apt-get install chromium)",
    )


def _print_pdf(chromium: str, html: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="nbbridge-pdf-") as work:
        page, pdf = Path(work, "notebook.html"), Path(work, "notebook.pdf")
        page.write_text(html, encoding="utf-8")
        command = [chromium, *_CHROMIUM_FLAGS, f"--user-data-dir={work}/profile",
                   f"--print-to-pdf={pdf}", page.as_uri()]
        try:
            finished = subprocess.run(command, capture_output=True, text=True, errors="replace",
                                      stdin=subprocess.DEVNULL,
                                      timeout=CHROMIUM_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            raise BridgeError(ErrorCode.EXPORT_FAILED,
                              f"Chromium did not print the PDF within "
                              f"{CHROMIUM_TIMEOUT_SECONDS} s") from None
        if not pdf.is_file() or pdf.stat().st_size == 0:
            raise BridgeError(ErrorCode.EXPORT_FAILED,
                              f"Chromium printed no PDF (exit {finished.returncode}): "
                              f"{_chromium_complaint(finished.stderr)}")
        return pdf.read_bytes()


def _chromium_complaint(stderr: str) -> str:
    # Headless Chromium logs D-Bus noise on machines without a session bus.
    lines = [line for line in stderr.splitlines() if line.strip() and "dbus" not in line]
    return lines[-1].strip() if lines else "no message"


def _exporter_name(to: str) -> str:
    if to not in FORMATS:
        raise BridgeError(ErrorCode.EXPORT_FAILED,
                          f"unknown export format {to!r}; choose one of {', '.join(FORMATS)}")
    return FORMATS[to]


def _default_output(source: Path, extension: str) -> Path:
    return source.with_name(source.stem + extension)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
