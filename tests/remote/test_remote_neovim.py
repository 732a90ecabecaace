"""A real headless Neovim runs a `# %%` file's cell on a jupyter_server's kernel."""

from __future__ import annotations

import json
from pathlib import Path

from language.test_neovim import run_neovim
from remote_servers import RunningServer

HERE = Path(__file__).resolve().parent

SCRIPT = """import os
on_the_server = os.environ["JUPYTER_RUNTIME_DIR"]
print(on_the_server)
# %%
on_the"""


async def test_neovim_runs_a_cell_on_the_servers_kernel(jupyter_server: RunningServer,
                                                        tmp_path: Path) -> None:
    script = tmp_path / "remote.py"
    script.write_text(SCRIPT)
    report = await run_neovim(HERE / "neovim_remote.lua", script, {
        "JUPYTER_SERVER_URL": jupyter_server.url, "JUPYTER_TOKEN": jupyter_server.token})
    assert report["steps"] == ["initialized", "started", "ran", "completed", "stopped"]
    assert report["kernel"]["transport"] == "websocket"
    cell = report["run"]["cells"][0]
    assert cell["status"] == "ok"
    runtime = str(jupyter_server.root.parent / "runtime")
    assert runtime in json.dumps(cell)  # printed by the server's kernel
    assert "on_the_server" in report["labels"]
