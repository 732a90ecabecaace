// The extension in a real editor: code-server + headless Chromium, a real bridge and kernel.
// Every check waits on what the page shows; nothing is timed.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { Editor, ROOT, missingPart } from "./editor";
import { pickKernelIfAsked, waitFor } from "./waits";

const FIXTURES = path.join(ROOT, "vscode-extension", "test", "e2e", "fixtures");
const TOUR = path.join(ROOT, "examples", "tour.ipynb");
const UNCHANGED = "nbformat-test4.ipynb";
const HAND_LAID = "hand-laid.ipynb";
const CRASH = "kernel-crash.ipynb";
const BROKEN = "broken.ipynb";
const BRIDGE_KILL = "zz-bridge-kill.ipynb";
const SANDBOX = "zz-sandbox.ipynb";
const RESTRICTED = "restricted.ipynb";
const LARGE = "large.ipynb";
const LONG = { timeout: 180_000 };

const missing = missingPart();
if (missing !== undefined && process.env.CI === "true") {
  // Under CI a missing editor or browser is a failure: `make test` installs them.
  throw new Error(`the real-editor E2E cannot run: ${missing}`);
}

describe("nbbridge in code-server", { skip: missing }, () => {
  let editor: Editor;
  const startedAt = Date.now();

  before(async () => {
    editor = await Editor.start(
      [TOUR, path.join(FIXTURES, UNCHANGED), path.join(FIXTURES, HAND_LAID), path.join(FIXTURES, CRASH), path.join(FIXTURES, BROKEN), path.join(FIXTURES, BRIDGE_KILL), path.join(FIXTURES, SANDBOX)],
      { files: { [LARGE]: largeNotebook() } },
    );
  });

  after(async () => {
    if (editor !== undefined) {
      await editor.screenshot("zz-final").catch(() => undefined);
      editor.saveLogs();
      await editor.stop();
    }
    console.log(`E2E in code-server took ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  });

  test("opening a notebook renders its markdown (with LaTeX) and does not mark it modified", LONG, async () => {
    await editor.openNotebook("tour.ipynb");
    const outputs = editor.outputs();
    await outputs.locator("h1", { hasText: "A tour of nbbridge" }).waitFor();
    await outputs.locator(".katex").first().waitFor();
    await editor.screenshot("01-tour-opened");
    assert.equal(await editor.page.locator(".tabs-container .tab.dirty").count(), 0);
  });

  test("Shift+Enter runs a cell and shows its stdout", LONG, async () => {
    await editor.focusCell("print(\"Hello");
    await editor.page.keyboard.press("Shift+Enter");
    await pickKernelIfAsked(editor);
    await editor.outputs().getByText("Hello from the kernel!").waitFor(LONG);
    await editor.screenshot("02-stdout");
  });

  test("a matplotlib plot shows as an image", LONG, async () => {
    await editor.focusCell("plt.plot");
    await editor.page.keyboard.press("Shift+Enter");
    const image = editor.outputs().locator("img").first();
    await image.waitFor(LONG);
    const size = await image.evaluate((element: HTMLImageElement) => [element.naturalWidth, element.naturalHeight]);
    assert.ok(size[0] > 100 && size[1] > 100, `the plot image is ${size.join("x")}`);
    await editor.screenshot("03-plot");
  });

  test("an HTML table renders as a table", LONG, async () => {
    await editor.focusCell("HTML(f");
    await editor.page.keyboard.press("Shift+Enter");
    await editor.outputs().locator("table th", { hasText: "cube" }).waitFor(LONG);
    assert.equal(await editor.outputs().locator("table td", { hasText: "64" }).count(), 1);
  });

  test("input() asks in an input box and the answer reaches the kernel", LONG, async () => {
    await editor.focusCell("input(");
    await editor.page.keyboard.press("Shift+Enter");
    const box = editor.quickInput();
    await box.getByText("What is your name?").first().waitFor(LONG);
    await editor.screenshot("04-input-box");
    await box.locator("input").fill("Ada");
    await editor.page.keyboard.press("Enter");
    await editor.outputs().getByText("Nice to meet you, Ada.").waitFor(LONG);
  });

  test("an error shows its name, message and traceback", LONG, async () => {
    await editor.focusCell("traceback,");
    await editor.page.keyboard.press("Shift+Enter");
    await editor.outputs().getByText("ZeroDivisionError").first().waitFor(LONG);
    await editor.outputs().getByText("division by zero").first().waitFor();
    await editor.screenshot("05-error");
  });

  test("Export… writes HTML with the unsaved outputs; Save and Checkpoint writes Jupyter's checkpoint", LONG, async () => {
    await editor.command("nbbridge: Export…");
    await editor.quickInput().locator(".monaco-list-row", { hasText: "HTML" }).first().click();
    // code-server's save dialog: a path box with the default name filled in.
    const where = editor.quickInput().locator("input");
    await waitForAsync(async () => (await where.inputValue()).endsWith("tour.html"), "the default export path");
    await editor.page.keyboard.press("Enter");
    await waitFor(() => fs.existsSync(editor.file("tour.html")), "the exported HTML");
    const html = fs.readFileSync(editor.file("tour.html"), "utf8");
    assert.match(html, /A tour of nbbridge/);
    assert.match(html, /Nice to meet you, Ada\./);

    await editor.command("nbbridge: Save and Checkpoint");
    const checkpoint = path.join(editor.workspace, ".ipynb_checkpoints", "tour-checkpoint.ipynb");
    await waitFor(() => fs.existsSync(checkpoint), "the checkpoint file");
    assert.ok(fs.readFileSync(checkpoint).equals(fs.readFileSync(editor.file("tour.ipynb"))));
    assert.match(fs.readFileSync(checkpoint, "utf8"), /Nice to meet you, Ada\./);
    assert.equal(await editor.page.locator('.tabs-container .tab.dirty[aria-label^="tour.ipynb"]').count(), 0);
  });

  test("saving an unchanged notebook writes it back byte for byte", LONG, async () => {
    const file = editor.file(UNCHANGED);
    const before = fs.readFileSync(file);
    await editor.openNotebook(UNCHANGED);
    assert.equal(await editor.activeTab(UNCHANGED).locator(".dirty").count(), 0);
    assert.equal(await editor.page.locator(`.tabs-container .tab.dirty[aria-label^="${UNCHANGED}"]`).count(), 0);
    await saveAfterUndoneEdit(editor, UNCHANGED);
    assert.ok(fs.readFileSync(file).equals(before), "the saved notebook differs from the original");
    await editor.screenshot("06-unchanged-saved");
  });

  test("a notebook over 16 MiB comes in parts: every cell is there and an unchanged save is byte for byte", LONG, async () => {
    const file = editor.file(LARGE);
    const before = fs.readFileSync(file);
    assert.ok(before.length > 16 * 1024 * 1024);
    await editor.openNotebook(LARGE);
    await saveAfterUndoneEdit(editor, LARGE);
    assert.ok(fs.readFileSync(file).equals(before), "the saved notebook differs from the original");
    // The last cell came with the last part: go there and see it rendered.
    await editor.page.keyboard.press("Escape");
    await editor.page.keyboard.press("Control+End");
    await editor.outputs().locator("h1", { hasText: "last_cell_marker" }).waitFor(LONG);
    await editor.screenshot("06b-large-notebook-end");
  });

  test("editing one cell and saving changes only that cell's text", LONG, async () => {
    const file = editor.file(HAND_LAID);
    const before = fs.readFileSync(file, "utf8");
    await editor.openNotebook(HAND_LAID);
    await editor.focusCell("EDIT_ME");
    await editor.page.keyboard.press("End");
    await editor.page.keyboard.type("23");
    await editor.dirtyTab(HAND_LAID).waitFor();
    await editor.page.keyboard.press("Control+S");
    await editor.dirtyTab(HAND_LAID).waitFor({ state: "detached" });
    await waitFor(() => fs.readFileSync(file, "utf8") !== before, "the save to reach the disk");
    const afterSave = fs.readFileSync(file, "utf8");
    // Byte for byte, the text around the edited cell is what it was (an output's
    // integer-like metadata key keeps its place: unchanged outputs go to the bridge as
    // their token, not through JavaScript objects).
    const span = (text: string): [number, number] => {
      const start = text.lastIndexOf("{", text.indexOf('"id": "c3"'));
      return [start, text.indexOf("\n    }", start)];
    };
    const [start, end] = span(before);
    const [newStart, newEnd] = span(afterSave);
    assert.equal(afterSave.slice(0, newStart), before.slice(0, start));
    assert.equal(afterSave.slice(newEnd), before.slice(end));
    // And in the edited cell only the source changed.
    const old = JSON.parse(before);
    const now = JSON.parse(afterSave);
    old.cells[2].source = "EDIT_ME = 123";
    assert.deepEqual(now, old);
    await editor.screenshot("07-one-cell-edited");
  });

  test("a file that is not JSON opens with the bridge's error naming line and column, and stays as it was", LONG, async () => {
    const before = fs.readFileSync(editor.file(BROKEN));
    await editor.page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${BROKEN}"]`).dblclick();
    const dialog = editor.page.locator(".monaco-dialog-box");
    await dialog.getByText("not valid JSON at line 3, column 43").waitFor(LONG);
    await editor.screenshot("08-broken-file");
    // The editor may ask again (it retries the open): dismiss until no dialog is left.
    for (let attempt = 0; attempt < 10 && (await dialog.count()) > 0; attempt++) {
      await editor.page.keyboard.press("Escape");
      await dialog.waitFor({ state: "detached", timeout: 3000 }).catch(() => undefined);
    }
    assert.equal(await dialog.count(), 0, "the error dialog does not go away");
    assert.ok(fs.readFileSync(editor.file(BROKEN)).equals(before));
  });

  test("a kernel that dies ends its cell with an error, shows dead, and the next run restarts it", LONG, async () => {
    await editor.openNotebook(CRASH);
    await editor.focusCell("os._exit");
    await editor.page.keyboard.press("Shift+Enter");
    await editor.outputs().getByText("KernelDied").first().waitFor(LONG);
    await editor.page.locator(".statusbar").getByText(/: dead/).waitFor(LONG);
    // No cell is left running or pending; the crashed one is marked failed.
    await editor.notebook().locator(".codicon-notebook-state-executing, .codicon-notebook-state-pending")
      .first().waitFor({ state: "detached" });
    await editor.notebook().locator(".codicon-notebook-state-error").first().waitFor();
    await editor.screenshot("09-kernel-died");
    await editor.focusCell("alive_again");
    await editor.page.keyboard.press("Shift+Enter");
    await editor.outputs().getByText("alive_again").waitFor(LONG);
    await editor.page.locator(".statusbar").getByText(/: idle/).waitFor(LONG);
  });

  test("the bridge killed mid-cell is restarted: the cell ends, unsaved edits stay, the save is right, a new run works", LONG, async () => {
    const file = editor.file(BRIDGE_KILL);
    const before = JSON.parse(fs.readFileSync(file, "utf8"));
    await editor.openNotebook(BRIDGE_KILL);
    await editor.focusCell("napping");
    await editor.page.keyboard.press("Shift+Enter");
    await pickKernelIfAsked(editor, "napping");
    await editor.outputs().getByText("napping").first().waitFor(LONG);
    // An edit the bridge never saw on disk, made while the cell runs.
    await editor.focusCell("KEEP_ME");
    await editor.page.keyboard.press("End");
    await editor.page.keyboard.type("23");
    await editor.dirtyTab(BRIDGE_KILL).waitFor();
    const [bridge] = editor.bridgePids();
    assert.ok(bridge !== undefined, "no bridge process found under code-server");
    process.kill(bridge, "SIGKILL");
    await editor.page.getByText("the bridge process stopped unexpectedly").first().waitFor(LONG);
    // The running cell ends (no spinner, nothing pending) instead of hanging.
    await editor.notebook().locator(".codicon-notebook-state-executing, .codicon-notebook-state-pending")
      .first().waitFor({ state: "detached", ...LONG });
    await editor.screenshot("10-bridge-restarting");
    await editor.focusCell("back_again");
    await editor.page.keyboard.press("Shift+Enter");
    await editor.outputs().getByText("back_again").last().waitFor(LONG);
    assert.notEqual(editor.bridgePids()[0], bridge);
    await editor.page.keyboard.press("Control+S");
    await waitFor(() => fs.readFileSync(file, "utf8").includes("KEEP_ME = 123"), "the save");
    const saved = JSON.parse(fs.readFileSync(file, "utf8"));
    const sources = (nb: { cells: { source: string[] }[] }): string[] => nb.cells.map((cell) => cell.source.join(""));
    // Shift+Enter on the last cell adds an empty one below it, as in Jupyter.
    assert.deepEqual(sources(saved), ["import time\nprint(\"napping\", flush=True)\ntime.sleep(60)", "KEEP_ME = 123", "print(\"back_again\")", ""]);
    assert.deepEqual(saved.cells.slice(0, 3).map((cell: { id: string }) => cell.id), before.cells.map((cell: { id: string }) => cell.id));
    assert.deepEqual(saved.metadata, before.metadata);
    assert.ok(JSON.stringify(saved.cells[2].outputs).includes("back_again"));
    // Outputs the new bridge never read were sent again in full, not lost.
    assert.deepEqual(saved.cells[1].outputs, before.cells[1].outputs);
    await editor.screenshot("11-after-bridge-restart");
  });

  test("script from outputs and markdown runs only inside the renderer frame, never in the workbench", LONG, async () => {
    await editor.openNotebook(SANDBOX);
    const outputs = editor.outputs();
    await outputs.getByText("markdown_rendered_marker").waitFor(LONG);
    const probe = outputs.locator("#probe", { hasText: /^ran in / });
    await probe.waitFor(LONG);
    await editor.screenshot("12-output-script");
    const report = await probe.innerText();
    console.log(`HTML output script: ${report}`);
    assert.match(report, /^ran in a frame;/);
    // Markdown's <script> is dropped; an inline handler may run, but only in the frame.
    const markers = await outputs.locator("body").evaluate((body: HTMLElement) => ({ ...body.dataset }));
    console.log(`markdown in the renderer frame: ${JSON.stringify(markers)}`);
    assert.equal(markers.markdownScript, undefined, "the markdown's <script> ran");
    assert.ok([undefined, "frame"].includes(markers.markdownOnerror), markers.markdownOnerror);
    const workbench = await editor.page.evaluate(() => ({ ...document.body.dataset }));
    assert.equal(workbench.markdownScript, undefined);
    assert.equal(workbench.markdownOnerror, undefined);
  });
});

describe("nbbridge in Restricted Mode (an untrusted folder)", { skip: missing }, () => {
  let editor: Editor;
  const python = path.join(ROOT, ".venv", "bin", "python");

  before(async () => {
    editor = await Editor.start([path.join(FIXTURES, RESTRICTED), path.join(FIXTURES, SANDBOX)], {
      trusted: false,
      files: {
        // The folder asks for its own interpreter, which leaves a mark when it runs.
        ".vscode/settings.json": JSON.stringify({ "nbbridge.pythonPath": "${workspace}/evil-python" }),
        "evil-python": `#!/bin/sh\ntouch "\${workspace}/EVIL_RAN"\nexec ${python} "$@"\n`,
      },
    });
  });

  after(async () => {
    if (editor !== undefined) {
      await editor.screenshot("zz-restricted-final").catch(() => undefined);
      await editor.stop();
    }
  });

  test("notebooks open, no kernel starts, and the folder's own Python never runs", LONG, async () => {
    await editor.openNotebook(RESTRICTED);
    await editor.outputs().getByText("restricted_marker").waitFor(LONG);
    await editor.focusCell("ran_in_restricted");
    await editor.page.keyboard.press("Shift+Enter");
    // Running a cell asks for trust first; the user keeps the folder untrusted.
    const dialog = editor.page.locator(".monaco-dialog-box");
    await dialog.waitFor(LONG);
    await editor.screenshot("13-restricted-run-asks-trust");
    await editor.page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    for (let waited = 0; waited < 5000; waited += 250) {
      assert.deepEqual(editor.kernelPids(), [], "a kernel started in an untrusted folder");
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.equal(await editor.outputs().getByText("ran_in_restricted").count(), 0);
    assert.equal(fs.existsSync(editor.file("EVIL_RAN")), false, "the folder's interpreter ran");
    const bridges = editor.bridgePids();
    assert.ok(bridges.length > 0, "no bridge serves the notebook");
    for (const pid of bridges) {
      assert.equal(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0], python);
    }
  });

  test("no script from outputs or markdown runs in an untrusted folder", LONG, async () => {
    await editor.openNotebook(SANDBOX);
    const outputs = editor.outputs();
    await outputs.getByText("markdown_rendered_marker").waitFor(LONG);
    // Restricted Mode shows no script-bearing output, and markdown's handlers stay inert.
    const ran = outputs.locator("#probe", { hasText: /^ran in / });
    const handled = outputs.locator("body[data-markdown-onerror], body[data-markdown-script]");
    for (let waited = 0; waited < 3000; waited += 250) {
      assert.equal(await ran.count(), 0, "the output's script ran");
      assert.equal(await handled.count(), 0, "the markdown's handler ran");
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await editor.screenshot("14-restricted-output-script");
  });
});

/** Types a character into the first code cell and deletes it (the notebook is then
 * modified, with the same content), saves, and waits for the file to be written. */
async function saveAfterUndoneEdit(editor: Editor, name: string): Promise<void> {
  const file = editor.file(name);
  const mtime = fs.statSync(file).mtimeMs;
  const dirty = editor.dirtyTab(name);
  await editor.focusCell();
  await editor.page.keyboard.press("End");
  await editor.page.keyboard.type("x");
  await editor.page.keyboard.press("Backspace");
  await dirty.waitFor();
  await editor.page.keyboard.press("Control+S");
  await dirty.waitFor({ state: "detached" });
  await waitFor(() => fs.statSync(file).mtimeMs !== mtime, "the save to reach the disk");
}

/** ~21 MB: 300 code cells printing 2000 lines each, markdown between, a marked last cell. */
function largeNotebook(): string {
  const printout = Array.from({ length: 2000 }, (_, line) => `line ${line} of a long printout\n`);
  const cells: object[] = [];
  for (let cell = 0; cell < 300; cell++) {
    cells.push({
      cell_type: "code",
      execution_count: cell + 1,
      id: `c${cell}`,
      metadata: {},
      outputs: [{ name: "stdout", output_type: "stream", text: printout }],
      source: [`cell_${cell} = ${cell}`],
    });
    cells.push({ cell_type: "markdown", id: `m${cell}`, metadata: {}, source: [`Text ${cell}`] });
  }
  cells.push({ cell_type: "markdown", id: "last", metadata: {}, source: ["# last_cell_marker"] });
  const metadata = { kernelspec: { display_name: "Python 3", language: "python", name: "python3" } };
  return JSON.stringify({ cells, metadata, nbformat: 4, nbformat_minor: 5 }, null, 1) + "\n";
}

async function waitForAsync(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let tries = 0; tries < 600; tries++) {
    if (await condition()) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}
