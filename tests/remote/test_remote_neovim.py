"""A real headless Neovim runs a `# %%` file's cell on a jupyter_server's kernel."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from language.test_neovim import nvim
from remote_servers import RunningServer

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

SCRIPT = """import os
on_the_server = os.environ["JUPYTER_RUNTIME_DIR"]
print(on_the_server)
# %%
on_the"""


async def test_neovim_runs_a_cell_on_the_servers_kernel(jupyter_server: RunningServer,
                                                        tmp_path: Path) -> None:
    script = tmp_path / "remote.py"
    script.write_text(SCRIPT)
    out = tmp_path / "report.json"
    env = {**os.environ, "NBBRIDGE_NVIM_FILE": str(script), "NBBRIDGE_NVIM_OUT": str(out),
           "NBBRIDGE_PYTHON": sys.executable, "JUPYTER_SERVER_URL": jupyter_server.url,
           "JUPYTER_TOKEN": jupyter_server.token,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO),
                                                       os.environ.get("PYTHONPATH")]))}
    process = await asyncio.create_subprocess_exec(
        nvim(), "--headless", "-u", "NONE", "-i", "NONE", "-n",
        "-c", f"luafile {HERE / 'neovim_remote.lua'}", cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, env=env)
    try:
        screen, _ = await asyncio.wait_for(process.communicate(), 240)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert out.exists(), f"Neovim wrote no report: {screen.decode(errors='replace')}"
    report = json.loads(out.read_text())
    assert "error" not in report, report
    assert report["steps"] == ["initialized", "started", "ran", "completed", "stopped"]
    assert report["kernel"]["transport"] == "websocket"
    cell = report["run"]["cells"][0]
    assert cell["status"] == "ok"
    runtime = str(jupyter_server.root.parent / "runtime")
    assert runtime in json.dumps(cell)  # printed by the server's kernel
    assert "on_the_server" in report["labels"]
