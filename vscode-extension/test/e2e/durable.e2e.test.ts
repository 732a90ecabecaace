// Kernels outlive the window: a cell keeps running through a window reload, and after it
// the cell shows every line it printed, once, and ends with its count; the Running Kernels
// view lists the kernel and shuts it down. A real editor, bridge, kernel host and kernel.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { Editor, ROOT, missingPart } from "./editor";
import { pickKernelIfAsked, waitFor } from "./waits";

const FIXTURES = path.join(ROOT, "vscode-extension", "test", "e2e", "fixtures");
const DURABLE = "durable.ipynb";
const LONG = { timeout: 240_000 };
// fewer lines than VS Code's textLineLimit (30), past which it hides the middle of a stream
const TICKS = Array.from({ length: 25 }, (_, tick) => `tick ${String(tick).padStart(2, "0")}`);

const missing = missingPart();
if (missing !== undefined && process.env.CI === "true") {
  throw new Error(`the real-editor E2E cannot run: ${missing}`);
}

describe("durable kernels in code-server", { skip: missing }, () => {
  let editor: Editor;

  before(async () => {
    editor = await Editor.start([path.join(FIXTURES, DURABLE)]);
  });

  after(async () => {
    if (editor !== undefined) {
      await editor.screenshot("zz-durable-final").catch(() => undefined);
      editor.saveLogs();
      await editor.stop();
    }
  });

  test("a cell running through a window reload shows every line once, goes on and ends with its count", LONG, async () => {
    await editor.openNotebook(DURABLE);
    await editor.focusCell("state_set");
    await editor.page.keyboard.press("Shift+Enter");
    await pickKernelIfAsked(editor, "state_set");
    await editor.outputs().getByText("state_set").waitFor(LONG);
    const [kernel] = editor.kernelPids();
    assert.ok(kernel !== undefined, "no kernel process under the editor's kernel host");

    await editor.focusCell("tick");
    await editor.page.keyboard.press("Shift+Enter");
    await editor.outputs().getByText("tick 03").waitFor(LONG);
    await editor.screenshot("30-durable-before-reload");
    await editor.reload();
    await editor.firstCodeCell().waitFor(LONG);
    // still running after the reload, with what it printed meanwhile
    await editor.notebook().locator(".codicon-notebook-state-executing").first().waitFor(LONG);
    await editor.screenshot("31-durable-after-reload");
    assert.deepEqual(editor.kernelPids(), [kernel], "the kernel did not survive the reload");
    await editor.outputs().getByText("tick 24").waitFor(LONG);
    await editor.notebook().locator(".codicon-notebook-state-executing").first().waitFor({ state: "detached", ...LONG });
    const shown = await editor.outputs().locator("body").innerText();
    for (const tick of TICKS) {
      assert.equal(shown.split(tick).length - 1, 1, `${tick} is shown ${shown.split(tick).length - 1} times`);
    }

    // the kernel's state survived: a variable set before the reload
    await editor.focusCell("survivor=");
    await editor.page.keyboard.press("Shift+Enter");
    await editor.outputs().getByText("survivor=42").waitFor(LONG);
    await editor.screenshot("32-durable-state-kept");

    // saved: the reloaded run's outputs and count are the cell's
    await editor.page.keyboard.press("Control+S");
    const file = editor.file(DURABLE);
    await waitFor(() => fs.readFileSync(file, "utf8").includes("survivor=42"), "the save");
    const cells = JSON.parse(fs.readFileSync(file, "utf8")).cells as { id: string; execution_count: number | null; outputs: { text?: string[] }[] }[];
    const long = cells.find((cell) => cell.id === "long-run");
    assert.equal(long?.execution_count, 2);
    assert.equal(long?.outputs.flatMap((output) => output.text ?? []).join(""), TICKS.map((tick) => `${tick}\n`).join(""));
    assert.equal(cells.find((cell) => cell.id === "after-reload")?.execution_count, 3);
  });

  test("the Running Kernels view lists the kernel and Shut Down ends it", LONG, async () => {
    const [kernel] = editor.kernelPids();
    assert.ok(kernel !== undefined, "no kernel to list");
    await editor.command("Explorer: Focus on Running Kernels View");
    // the view's row, not the explorer's row of the same file
    const view = editor.page.locator(".pane", { has: editor.page.locator(".pane-header", { hasText: "Running Kernels" }) });
    const row = view.locator(".monaco-list-row", { hasText: DURABLE });
    await row.first().waitFor(LONG);
    await editor.screenshot("33-running-kernels");
    await row.first().hover();
    await row.first().locator(".action-label[aria-label='Shut Down Kernel']").click();
    await row.first().waitFor({ state: "detached", ...LONG });
    await waitFor(() => !editor.kernelPids().includes(kernel), "the kernel process to end");
    await editor.screenshot("34-running-kernels-after-shutdown");
  });
});
