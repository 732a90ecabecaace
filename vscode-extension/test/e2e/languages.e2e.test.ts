// A notebook of another language in the real editor: an R notebook whose metadata names
// the `ir` kernelspec opens with that kernel preselected, runs with Shift+Enter, and its
// cells complete names that only the running R kernel knows.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { Editor, ROOT, missingPart } from "./editor";

const FIXTURES = path.join(ROOT, "vscode-extension", "test", "e2e", "fixtures");
const NOTEBOOK = "r-kernel.ipynb";
// The kernelspecs `make kernels` installs (R's from Debian's r-cran-irkernel).
const KERNELS = path.join(ROOT, ".tools", "kernels", "jupyter");
const LONG = { timeout: 180_000 };

const missing =
  missingPart() ??
  (fs.existsSync(path.join(KERNELS, "kernels", "ir", "kernel.json")) ? undefined : "no R kernel (make kernels)");
if (missing !== undefined && process.env.CI === "true") {
  throw new Error(`the R notebook E2E cannot run: ${missing}`);
}

describe("an R notebook in code-server", { skip: missing }, () => {
  let editor: Editor;

  before(async () => {
    // The bridge finds kernelspecs through JUPYTER_PATH: set for code-server (so for its
    // extension host and the bridge), as a user's shell would, never in the workspace.
    const jupyterPath = [KERNELS, process.env.JUPYTER_PATH].filter(Boolean).join(path.delimiter);
    editor = await Editor.start([path.join(FIXTURES, NOTEBOOK)], { env: { JUPYTER_PATH: jupyterPath } });
  });

  after(async () => {
    if (editor !== undefined) {
      await editor.screenshot("r-zz-final").catch(() => undefined);
      editor.saveLogs();
      await editor.stop();
    }
  });

  test("the notebook's own kernel is preselected and Shift+Enter shows R's output", LONG, async () => {
    await editor.openNotebook(NOTEBOOK);
    await editor.focusCell("assign(paste0");
    await editor.page.keyboard.press("Shift+Enter");
    const picker = editor.quickInput().locator(".monaco-list-row").first();
    const ran = editor.outputs().getByText("assigned 42 by R").first();
    const first = await Promise.race([
      ran.waitFor(LONG).then(() => "ran", () => "neither"),
      picker.waitFor(LONG).then(() => "picker", () => "neither"),
    ]);
    if (first !== "ran") {
      await editor.screenshot("r-not-preselected");
    }
    assert.equal(first, "ran", "the R kernel the notebook names was not preselected");
    // the cells speak R: the cell's language shows in its status bar
    await editor.notebook().locator(".cell-status-item", { hasText: /^R$/ }).first().waitFor(LONG);
    await editor.screenshot("r-01-ran");
  });

  test("a cell completes a name only the running kernel knows", LONG, async () => {
    // made by the first cell at run time: no cell's text holds the name, so neither the
    // editor's word list nor any static analysis can offer it
    await editor.focusCell("second_cell");
    await editor.page.keyboard.press("Control+End");
    await editor.page.keyboard.press("Enter");
    await editor.page.keyboard.type("kernel_o", { delay: 50 });
    const suggestion = editor.page.locator(".suggest-widget.visible .monaco-list-row", { hasText: "kernel_only_name" });
    if (!(await suggestion.first().waitFor({ timeout: 15_000 }).then(() => true, () => false))) {
      await editor.page.keyboard.press("Control+Space"); // ask explicitly
    }
    await suggestion.first().waitFor(LONG);
    await editor.screenshot("r-02-completion");
    await editor.page.keyboard.press("Escape");
  });
});
