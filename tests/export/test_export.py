"""`nbbridge export` and `notebook/export`: every format written, opened and checked."""

from __future__ import annotations

import ast
import base64
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from pygls import uris

from bridge_client import BridgeClient, RpcError

# a 2x2 PNG, so exporters have an image output to place
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGM8ISfHwMDAxMDAwMDAAAANBAEI"
       "fXHKZgAAAABJRU5ErkJggg==")


def notebook_with_outputs(path: Path) -> Path:
    cells = [
        new_markdown_cell("# Quarterly figures\n\nThe numbers below are **made up**."),
        new_code_cell("total = 6 * 7\nprint('the total is', total)", execution_count=1,
                      outputs=[new_output("stream", text="the total is 42\n")]),
        new_code_cell("show_picture()", execution_count=2,
                      outputs=[new_output("display_data", data={"image/png": PNG,
                                                                "text/plain": "<Figure>"})]),
    ]
    nbformat.write(new_notebook(cells=cells, metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python", "file_extension": ".py"}}), path)
    return path


def nbbridge(*args: str | Path, env: dict[str, str] | None = None,
             ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bridge", *map(str, args)],
                          capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, **(env or {})})


def pdf_text(path: Path) -> tuple[int, str]:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    pages = next(int(line.split()[-1]) for line in info.stdout.splitlines()
                 if line.startswith("Pages:"))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    return pages, text


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One notebook exported to every format by the command line (shared by the checks)."""
    folder = tmp_path_factory.mktemp("export")
    source = notebook_with_outputs(folder / "report.ipynb")
    for to in ("html", "pdf", "python", "markdown", "slides"):
        done = nbbridge("export", source, "--to", to)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
    return folder


def test_html_holds_the_text_and_the_image(exported: Path) -> None:
    html = (exported / "report.html").read_text()
    assert "<html" in html and "Quarterly figures" in html
    assert "the total is 42" in html
    assert f"data:image/png;base64,{PNG}" in html


def test_pdf_is_printed_by_chromium_with_the_notebook_text(exported: Path) -> None:
    data = (exported / "report.pdf").read_bytes()
    assert data.startswith(b"%PDF-")
    pages, text = pdf_text(exported / "report.pdf")
    assert pages >= 1
    for expected in ("Quarterly figures", "made up", "the total is 42", "total = 6 * 7"):
        assert expected in text, text


def test_python_script_is_the_code(exported: Path) -> None:
    script = (exported / "report.py").read_text()
    ast.parse(script)
    assert "total = 6 * 7" in script and "show_picture()" in script
    assert "# # Quarterly figures" in script


def test_markdown_links_the_extracted_image(exported: Path) -> None:
    markdown = (exported / "report.md").read_text()
    assert markdown.startswith("# Quarterly figures")
    assert "```python\ntotal = 6 * 7" in markdown
    image = exported / "report_files" / "report_2_0.png"
    assert "](report_files/report_2_0.png)" in markdown
    assert image.read_bytes() == base64.b64decode(PNG)


def test_slides_are_a_reveal_deck(exported: Path) -> None:
    slides = (exported / "report.slides.html").read_text()
    assert "reveal" in slides.lower() and "Quarterly figures" in slides


@pytest.mark.parametrize(("args", "env", "expected"), [
    (("--to", "docx"), None, "unknown export format 'docx'"),
    (("--to", "markdown", "-o", "no/such/folder/nb.md"), None, "no folder"),
    (("--to", "rst"), {"PATH": ""}, "Pandoc"),
    (("--to", "pdf"), {"PATH": str(Path(sys.executable).parent)},
     "install Debian package chromium"),
])
def test_a_format_that_cannot_be_made_is_one_line_and_writes_nothing(
        tmp_path: Path, args: tuple[str, ...], env: dict[str, str] | None,
        expected: str) -> None:
    source = notebook_with_outputs(tmp_path / "nb.ipynb")
    done = nbbridge("export", source, *args, env=env)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nbbridge export: error:"), done.stderr
    assert expected in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nb.ipynb"]


def test_missing_file_and_non_notebook(tmp_path: Path) -> None:
    done = nbbridge("export", tmp_path / "absent.ipynb", "--to", "html")
    assert done.returncode == 2 and "no such file" in done.stderr
    (tmp_path / "notes.ipynb").write_text("not json")
    done = nbbridge("export", tmp_path / "notes.ipynb", "--to", "html")
    assert done.returncode == 2 and "not valid JSON" in done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.ipynb"]


async def test_export_request_prints_unsaved_content_to_the_chosen_file(
        bridge: BridgeClient, tmp_path: Path) -> None:
    source = notebook_with_outputs(tmp_path / "draft.ipynb")
    edited = nbformat.read(source, as_version=4)
    edited.cells[0].source = "# Edited in the editor, not saved yet"
    target = tmp_path / "chosen" / "printed.pdf"
    target.parent.mkdir()
    result = await bridge.request("notebook/export", {
        "uri": uris.from_fs_path(str(source)), "format": "pdf",
        "outputUri": uris.from_fs_path(str(target)),
        "content": nbformat.writes(edited)})
    assert result["path"] == str(target) and result["bytes"] == target.stat().st_size
    _, text = pdf_text(target)
    assert "Edited in the editor" in text
    assert "Quarterly" not in text


async def test_export_request_errors(bridge: BridgeClient, tmp_path: Path) -> None:
    source = notebook_with_outputs(tmp_path / "nb.ipynb")
    uri = uris.from_fs_path(str(source))
    with pytest.raises(RpcError) as unknown:
        await bridge.request("notebook/export", {"uri": uri, "format": "docx"})
    assert unknown.value.code == -32021 and "docx" in unknown.value.message
    with pytest.raises(RpcError) as missing:
        await bridge.request("notebook/export", {"uri": uri + "x", "format": "html"})
    assert missing.value.code == -32020 and "no such file" in missing.value.message
    with pytest.raises(RpcError) as itself:
        await bridge.request("notebook/export", {"uri": uri, "format": "html",
                                                 "outputUri": uri})
    assert itself.value.code == -32021 and "overwrite the notebook" in itself.value.message
    result = await bridge.request("notebook/export", {"uri": uri, "format": "python"})
    assert Path(result["path"]) == tmp_path / "nb.py"
    assert "print('the total is', total)" in (tmp_path / "nb.py").read_text()
