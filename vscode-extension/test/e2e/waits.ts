// Waits the E2E tests share: on a condition, and on the kernel picker a first run may open.

import type { Editor } from "./editor";

const LONG = { timeout: 180_000 };

/** The first run of a notebook may ask which kernel: choose the bridge's Python kernel. */
export async function pickKernelIfAsked(editor: Editor, printed = "Hello from the kernel!"): Promise<void> {
  const picker = editor.page.locator(".quick-input-widget:visible .monaco-list-row", { hasText: /Python/ });
  const ran = editor.outputs().getByText(printed).first();
  const first = await Promise.race([
    picker.first().waitFor(LONG).then(() => "picker", () => "neither"),
    ran.waitFor(LONG).then(() => "ran", () => "neither"),
  ]);
  if (first === "picker") {
    await editor.screenshot("02-kernel-picker");
    await picker.first().click();
  }
}

export async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let tries = 0; tries < 600; tries++) {
    if (condition()) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}
