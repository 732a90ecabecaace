// A user who installed only the .vsix: no nbbridge.pythonPath, a CPython without nbbridge on
// PATH, no package index. The extension makes the bridge's environment from the wheels it
// carries (once: a second window reuses it), and a cell runs.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { Editor, missingPart } from "./editor";

const LONG = { timeout: Number(process.env.NBBRIDGE_E2E_TIMEOUT ?? 300_000) };
const NOTEBOOK = "hello.ipynb";
const PRINTED = "hello from the bundled bridge";
const SET_UP = /setting up its Python environment/;

/** A CPython 3.11-3.13 other than the project's venv: pyenv's, else the system's. */
function plainPython(): string | undefined {
  const pyenv = path.join(process.env.PYENV_ROOT ?? path.join(os.homedir(), ".pyenv"), "versions");
  const versions = fs.existsSync(pyenv) ? fs.readdirSync(pyenv).filter((v) => /^3\.1[1-3]\./.test(v)) : [];
  const found = versions.map((v) => path.join(pyenv, v, "bin", "python3")).find((file) => fs.existsSync(file));
  return found ?? ["/usr/bin/python3.11", "/usr/bin/python3.12", "/usr/bin/python3.13"].find((f) => fs.existsSync(f));
}

function notebook(): string {
  const cell = (source: string): object => ({ cell_type: "code", execution_count: null, metadata: {}, outputs: [], source: [source] });
  return JSON.stringify({
    cells: [cell(`print("${PRINTED}")`)],
    metadata: { kernelspec: { display_name: "Python 3 (ipykernel)", language: "python", name: "python3" } },
    nbformat: 4,
    nbformat_minor: 5,
  }, null, 1) + "\n";
}

/** The bridge environments the extension made under its global storage. */
function stamps(userData: string): string[] {
  const root = path.join(userData, "User", "globalStorage", "nbbridge.nbbridge", "bridge");
  const entries = fs.existsSync(root) ? fs.readdirSync(root) : [];
  return entries.map((entry) => path.join(root, entry, "nbbridge-environment.json")).filter((file) => fs.existsSync(file));
}

const missing = missingPart() ?? (plainPython() === undefined ? "no CPython 3.11-3.13 besides the venv" : undefined);

describe("the .vsix alone, offline", { skip: missing }, () => {
  const machine = fs.mkdtempSync(path.join(os.tmpdir(), "nbbridge-install-"));
  const userData = path.join(machine, "user-data");
  const bin = path.join(machine, "bin");
  fs.mkdirSync(bin);
  fs.symlinkSync(plainPython() ?? "", path.join(bin, "python3"));
  const env = {
    PATH: `${bin}:/usr/bin:/bin`,
    HOME: machine, // no pyenv, conda or user site here: only PATH's Python
    PIP_INDEX_URL: "http://127.0.0.1:9/simple",
    PIP_NO_INDEX: "1",
    PIP_CONFIG_FILE: "/dev/null",
    JUPYTER_PATH: "",
  };
  const files = { [NOTEBOOK]: notebook() };

  after(() => fs.rmSync(machine, { recursive: true, force: true }));

  async function runTheCell(editor: Editor): Promise<boolean> {
    const toast = editor.page.locator(".notifications-toasts").getByText(SET_UP);
    const shown = toast.waitFor({ timeout: 120_000 }).then(() => true, () => false);
    await editor.openNotebook(NOTEBOOK);
    await editor.focusCell(PRINTED);
    await editor.page.keyboard.press("Shift+Enter");
    // the picker, where it asks, may first ask for the kernel source (this extension)
    const rows = editor.page.locator(".quick-input-widget:visible .monaco-list-row");
    const ran = editor.outputs().getByText(PRINTED).first();
    for (let step = 0; step < 3; step++) {
      const next = await Promise.race([rows.first().waitFor(LONG).then(() => "picker"), ran.waitFor(LONG).then(() => "ran")]);
      if (next === "ran") {
        break;
      }
      const python = rows.filter({ hasText: /Python/ });
      if ((await python.count()) === 0) {
        await rows.filter({ hasText: /nbbridge/ }).first().click();
        continue;
      }
      await python.first().click();
      // a kernel picked from the picker's second level does not run the cell: run it again
      await editor.focusCell(PRINTED);
      await editor.page.keyboard.press("Shift+Enter");
    }
    await ran.waitFor(LONG);
    return Promise.race([shown, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 500))]);
  }

  test("the first window sets the bridge up from the .vsix's wheels, with progress, and runs a cell", LONG, async () => {
    const editor = await Editor.start([], { bridgePython: null, env, userData, files });
    try {
      assert.equal(await runTheCell(editor), true, "the set-up progress was shown");
      await editor.screenshot("install-01-first-window");
    } catch (error) {
      await editor.screenshot("install-01-failed");
      throw error;
    } finally {
      editor.saveLogs();
      await editor.stop();
    }
    const made = stamps(userData);
    assert.equal(made.length, 1);
    assert.match(made[0], /py3\.1[1-3]/);
  });

  test("a second window reuses the environment: no set-up", LONG, async () => {
    const [stamp] = stamps(userData);
    const madeAt = fs.statSync(stamp).mtimeMs;
    const editor = await Editor.start([], { bridgePython: null, env, userData, files });
    try {
      assert.equal(await runTheCell(editor), false, "no set-up progress the second time");
      assert.equal(fs.statSync(stamp).mtimeMs, madeAt);
    } finally {
      editor.saveLogs();
      await editor.stop();
    }
  });
});
