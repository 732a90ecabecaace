"""Open and save where the user is: code-server + headless Chromium, nbbridge's .vsix
against VS Code's built-in ipynb editor (code-server without nbbridge), same files.

Each round of each editor is a fresh code-server, browser and extension host
(vscode-extension/test/bench/editorRound.ts); the two editors alternate which goes first.
Rows (medians):
- typical first / second: a typical notebook (~2 MB, 100 cells, 50 with a stream, a PNG
  and an HTML result) opened by quick-open as the first notebook of a fresh window (the
  bridge's start included) and then another one as the second;
- big open: the 83 MB / 4000-cell notebook of bench/big_notebook.py, Enter in quick-open
  until its first code cell is on screen ("Open Anyway" clicked at once);
- big save: one code cell edited, Ctrl+S until the file on disk holds the edit;
- extension host RSS after the big open.

    python bench/bench_editor.py [--rounds 3] [--scenario typical|big|both]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from big_notebook import build

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "vscode-extension"
ROUND = EXTENSION / "out" / "bench" / "editorRound.js"
EDITORS = ("nbbridge", "builtin")
TARGETS = {("typical", "first"): 1.1, ("typical", "second"): 1.0,
           ("big", "open"): 1.0, ("big", "save"): 1.0}


def write_files(folder: Path) -> None:
    for number, seed in ((1, 21), (2, 22)):
        (folder / f"typical-{number}.ipynb").write_text(
            build(code_cells=50, markdown_cells=50, seed=seed), encoding="utf-8")
    (folder / "big.ipynb").write_text(build(), encoding="utf-8")


def one_round(editor: str, scenario: str, folder: Path) -> dict[str, float]:
    done = subprocess.run(
        ["node", str(ROUND), "--editor", editor, "--scenario", scenario, str(folder)],
        cwd=EXTENSION, capture_output=True, text=True, check=False,
        env={**os.environ, "NBBRIDGE_ROOT": str(ROOT)})
    if done.returncode != 0:
        sys.exit(f"the {editor} {scenario} round failed:\n{done.stdout}{done.stderr}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scenario", choices=("typical", "big", "both"), default="both")
    args = parser.parse_args()
    if not ROUND.exists():
        sys.exit(f"{ROUND} is missing: run `make vsix editor` and `node esbuild.mjs` "
                 "in vscode-extension first")
    scenarios = ("typical", "big") if args.scenario == "both" else (args.scenario,)
    with tempfile.TemporaryDirectory(prefix="nbbridge-bench-editor-") as temporary:
        folder = Path(temporary)
        write_files(folder)
        for scenario in scenarios:
            samples: dict[str, dict[str, list[float]]] = {editor: {} for editor in EDITORS}
            for number in range(args.rounds):
                order = EDITORS if number % 2 == 0 else EDITORS[::-1]
                for editor in order:
                    result = one_round(editor, scenario, folder)
                    print(f"  round {number + 1} {editor:8} {scenario}: "
                          + ", ".join(f"{key} {value:.0f}" for key, value in result.items()),
                          flush=True)
                    for key, value in result.items():
                        samples[editor].setdefault(key, []).append(value)
            for key in samples["nbbridge"]:
                ours = statistics.median(samples["nbbridge"][key])
                theirs = statistics.median(samples["builtin"][key])
                unit = "MiB" if key.endswith("MiB") else "ms"
                target = TARGETS.get((scenario, key))
                goal = f"  (target <= {target:.1f}x)" if target is not None else ""
                print(f"{scenario} {key:16} nbbridge {ours:9.0f} {unit}   built-in "
                      f"{theirs:9.0f} {unit}   ratio {ours / theirs:5.2f}x{goal}", flush=True)


if __name__ == "__main__":
    main()
