// A project's own .venv, made while the editor is open and without ipykernel, is a kernel in
// the picker; choosing it offers to install ipykernel, and the cell then runs in that venv.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { Editor, missingPart } from "./editor";

const LONG = { timeout: Number(process.env.NBBRIDGE_E2E_TIMEOUT ?? 300_000) };
const NOTEBOOK = "in-venv.ipynb";
const CODE = 'import sys; print("prefix=" + sys.prefix)';

/** A CPython for the project's venv: pyenv's, else the system's. */
function basePython(): string | undefined {
  const pyenv = path.join(process.env.PYENV_ROOT ?? path.join(os.homedir(), ".pyenv"), "versions");
  const versions = fs.existsSync(pyenv) ? fs.readdirSync(pyenv).filter((v) => /^3\.1[1-3]\./.test(v)) : [];
  return versions.map((v) => path.join(pyenv, v, "bin", "python3")).find((file) => fs.existsSync(file)) ?? "/usr/bin/python3";
}

function notebook(): string {
  return JSON.stringify({
    cells: [{ cell_type: "code", execution_count: null, id: "c1", metadata: {}, outputs: [], source: [CODE] }],
    metadata: {},
    nbformat: 4,
    nbformat_minor: 5,
  }, null, 1) + "\n";
}

describe("a workspace venv as a kernel", { skip: missingPart() }, () => {
  let editor: Editor;

  before(async () => {
    editor = await Editor.start([], { files: { [NOTEBOOK]: notebook() } });
  });

  after(async () => {
    if (editor !== undefined) {
      editor.saveLogs();
      await editor.stop();
    }
  });

  test("made meanwhile, it is in the picker; choosing it installs ipykernel and runs there", LONG, async () => {
    await editor.openNotebook(NOTEBOOK);
    const venv = path.join(editor.workspace, ".venv");
    const made = spawnSync(basePython() ?? "python3", ["-m", "venv", venv], { encoding: "utf8" });
    assert.equal(made.status, 0, made.stderr);
    await editor.pickKernel(/venv: \.venv/, "env-01-picker", LONG.timeout);
    await editor.focusCell("prefix=");
    await editor.page.keyboard.press("Shift+Enter");
    const offer = editor.page.locator(".notifications-toasts").filter({ hasText: /Install ipykernel into/ });
    await offer.getByRole("button", { name: "Install" }).click(LONG);
    await editor.outputs().getByText(`prefix=${venv}`).waitFor(LONG);
    await editor.screenshot("env-02-ran-in-venv");
    assert.ok(fs.existsSync(path.join(venv, "lib")));
  });
});
