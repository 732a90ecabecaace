// Jupyter widgets in the real editor: the renderer, comms both ways, Output capture, saved
// state. code-server + headless Chromium, a real bridge and ipykernel with ipywidgets.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { Editor, ROOT, missingPart } from "./editor";

const FIXTURES = path.join(ROOT, "vscode-extension", "test", "e2e", "fixtures");
const WIDGETS = "widgets.ipynb";
const SAVED_COPY = "widgets-saved.ipynb";
const LONG = { timeout: 180_000 };

const missing = missingPart();
if (missing !== undefined && process.env.CI === "true") {
  throw new Error(`the real-editor E2E cannot run: ${missing}`);
}

describe("Jupyter widgets in code-server", { skip: missing }, () => {
  let editor: Editor;

  before(async () => {
    editor = await Editor.start([path.join(FIXTURES, WIDGETS)]);
  });

  after(async () => {
    if (editor !== undefined) {
      await editor.screenshot("widgets-final").catch(() => undefined);
      editor.saveLogs();
      await editor.stop();
    }
  });

  test("an IntSlider renders; moving it changes the kernel's value and its observer prints", LONG, async () => {
    await editor.openNotebook(WIDGETS);
    await editor.focusCell("IntSlider");
    await editor.page.keyboard.press("Shift+Enter");
    await pickKernelIfAsked(editor);
    const slider = editor.outputs().locator(".widget-slider", { hasText: "wslider" });
    await slider.waitFor(LONG);
    await editor.outputs().locator(".widget-readout", { hasText: "3" }).waitFor(LONG);
    await editor.screenshot("widgets-01-slider");
    // as a user would: focus the handle, press the arrow key
    await slider.locator(".noUi-handle").focus();
    await slider.locator(".noUi-handle").press("ArrowRight");
    await editor.outputs().locator(".widget-readout", { hasText: "4" }).waitFor(LONG);
    await editor.outputs().getByText("observed 4").waitFor(LONG);
    await editor.screenshot("widgets-02-observed");
    await editor.focusCell("kernel_value");
    await editor.page.keyboard.press("Shift+Enter");
    await editor.outputs().getByText("kernel_value 4").waitFor(LONG);
    assert.equal(await editor.outputs().getByText("observed 4").count(), 1);
  });

  test("an Output widget captures a print and a clear_output; the cell keeps its own print", LONG, async () => {
    await editor.focusCell("erased_line");
    await editor.page.keyboard.press("Shift+Enter");
    const widget = editor.outputs().locator(".widget-output, .jupyter-widget-output").filter({ hasText: "captured_line" });
    await widget.waitFor(LONG);
    await editor.outputs().getByText("cell_line").waitFor(LONG);
    assert.equal(await editor.outputs().getByText("erased_line").count(), 0);
    await editor.screenshot("widgets-03-output-widget");
  });

  test("saving writes the widgets' state; reopened without a kernel, the slider is drawn from it", LONG, async () => {
    await editor.focusCell("kernel_value");
    await editor.page.keyboard.press("Control+S");
    await editor.dirtyTab(WIDGETS).waitFor({ state: "detached", ...LONG });
    const saved = JSON.parse(fs.readFileSync(editor.file(WIDGETS), "utf8")) as {
      metadata: { widgets?: Record<string, { state: Record<string, { model_name: string; state: { value?: number } }> }> };
    };
    const models = Object.values(saved.metadata.widgets?.["application/vnd.jupyter.widget-state+json"]?.state ?? {});
    assert.deepEqual(
      models.filter((model) => model.model_name === "IntSliderModel").map((model) => model.state.value),
      [4],
    );
    // the saved file as another notebook, which no kernel has run
    const kernels = editor.kernelPids().length;
    fs.copyFileSync(editor.file(WIDGETS), editor.file(SAVED_COPY));
    await editor.command("View: Close All Editors");
    await editor.openNotebook(SAVED_COPY);
    const slider = editor.outputs().locator(".widget-slider", { hasText: "wslider" });
    await slider.waitFor(LONG);
    await editor.outputs().locator(".widget-readout", { hasText: "4" }).waitFor(LONG);
    await editor.outputs().locator(".jupyter-widget-output, .widget-output", { hasText: "captured_line" }).waitFor(LONG);
    assert.equal(editor.kernelPids().length, kernels, "drawing saved widgets started a kernel");
    await editor.screenshot("widgets-04-saved-state");
  });
});

async function pickKernelIfAsked(editor: Editor): Promise<void> {
  const picker = editor.page.locator(".quick-input-widget:visible .monaco-list-row", { hasText: /Python/ });
  const rendered = editor.outputs().locator(".widget-slider").first();
  const first = await Promise.race([
    picker.first().waitFor(LONG).then(() => "picker", () => "neither"),
    rendered.waitFor(LONG).then(() => "ran", () => "neither"),
  ]);
  if (first === "picker") {
    await picker.first().click();
  }
}
