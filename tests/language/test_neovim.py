"""A real headless Neovim, set up as docs/editors.md says, gets the kernel's completions."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

SCRIPT = """import pandas
df = pandas.DataFrame({"alpha": [1]})
# %%
df.al"""


def nvim() -> str:
    found = shutil.which("nvim")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("nvim is missing: `make test` installs Debian's neovim")
        pytest.skip("nvim is not installed (make test installs it)")
    return found


async def run_neovim(lua: Path, script: Path,
                     env: dict[str, str] | None = None) -> dict[str, Any]:
    """Headless Neovim on `script` running the test's `lua`, which writes a JSON report;
    the report, with no error in it."""
    out = script.parent / "report.json"
    process = await asyncio.create_subprocess_exec(
        nvim(), "--headless", "-u", "NONE", "-i", "NONE", "-n", "-c", f"luafile {lua}",
        cwd=script.parent, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, **(env or {}), "NBBRIDGE_NVIM_FILE": str(script),
             "NBBRIDGE_NVIM_OUT": str(out), "NBBRIDGE_PYTHON": sys.executable,
             "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO),
                                                         os.environ.get("PYTHONPATH")]))},
    )
    try:
        screen, _ = await asyncio.wait_for(process.communicate(), 240)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert out.exists(), f"Neovim wrote no report: {screen.decode(errors='replace')}"
    report: dict[str, Any] = json.loads(out.read_bytes())
    assert "error" not in report, report
    return report


async def test_neovim_gets_kernel_completions_in_a_percent_script(tmp_path: Path) -> None:
    script = tmp_path / "analysis.py"
    script.write_text(SCRIPT)
    report = await run_neovim(HERE / "neovim_complete.lua", script)
    assert report["steps"] == ["initialized", "ran", "completed", "stopped"]
    assert report["encoding"] == "utf-16"
    assert report["run"]["cells"][0]["status"] == "ok"
    assert "alpha" in report["labels"]  # only the kernel knows the column
    assert "align" in report["labels"]
