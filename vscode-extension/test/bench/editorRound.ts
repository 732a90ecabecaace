// One round of bench/bench_editor.py, in a process of its own: a fresh code-server and
// headless Chromium with nbbridge's .vsix installed, or with only VS Code's built-in ipynb
// editor, opening and saving notebooks as a user does (quick-open, Enter; Ctrl+S).
// Prints one JSON line: milliseconds per step and the extension host's memory.
//
//   node out/bench/editorRound.js --editor nbbridge|builtin --scenario typical|big DIR
// typical: DIR holds typical-1.ipynb and typical-2.ipynb (first and second of a window);
// big: DIR holds big.ipynb (open it, then edit its first code cell and save).

import * as fs from "node:fs";
import * as path from "node:path";
import { Editor } from "../e2e/editor";

interface Args {
  editor: "nbbridge" | "builtin";
  scenario: "typical" | "big";
  folder: string;
}

function parseArgs(argv: string[]): Args {
  const value = (flag: string): string => {
    const index = argv.indexOf(flag);
    if (index < 0 || index + 1 >= argv.length) {
      throw new Error(`missing ${flag}`);
    }
    return argv[index + 1];
  };
  const editor = value("--editor");
  const scenario = value("--scenario");
  if ((editor !== "nbbridge" && editor !== "builtin") || (scenario !== "typical" && scenario !== "big")) {
    throw new Error(`usage: --editor nbbridge|builtin --scenario typical|big DIR`);
  }
  return { editor, scenario, folder: argv[argv.length - 1] };
}

/** Quick-open, the name typed, Enter: milliseconds from Enter until the first code cell is
 * on screen ("Open Anyway" on the large-file prompt clicked at once). */
async function timeOpen(editor: Editor, name: string): Promise<number> {
  const page = editor.page;
  await page.keyboard.press("Control+P");
  const input = page.locator(".quick-input-widget .quick-input-box input");
  await input.waitFor();
  await input.fill(name);
  await page.locator(".quick-input-widget .monaco-list-row", { hasText: name }).first().waitFor();
  const started = performance.now();
  await page.keyboard.press("Enter");
  const firstCell = editor.firstCodeCell();
  const openAnyway = page.getByRole("button", { name: "Open Anyway" });
  const first = await Promise.race([
    firstCell.waitFor({ timeout: 600_000 }).then(() => "cell"),
    openAnyway.waitFor({ timeout: 600_000 }).then(() => "prompt"),
  ]);
  if (first === "prompt") {
    await openAnyway.click();
    await firstCell.waitFor({ timeout: 600_000 });
  }
  return performance.now() - started;
}

/** Resident memory of the editor's extension host(s), in MiB. */
function extensionHostMiB(editor: Editor): number {
  let kib = 0;
  for (const pid of editor.extensionHostPids()) {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    kib += Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  }
  return kib / 1024;
}

/** Types into the first code cell, presses Ctrl+S: milliseconds until the file on disk
 * holds the edit. */
async function timeSave(editor: Editor, name: string): Promise<number> {
  const file = editor.file(name);
  const before = fs.statSync(file).mtimeMs;
  await editor.focusCell();
  await editor.page.keyboard.press("Control+End");
  await editor.page.keyboard.type("\n# edited");
  await editor.dirtyTab(name).waitFor();
  const started = performance.now();
  await editor.page.keyboard.press("Control+S");
  for (;;) {
    if (fs.statSync(file).mtimeMs !== before && fs.readFileSync(file, "utf8").includes("# edited")) {
      return performance.now() - started;
    }
    if (performance.now() - started > 900_000) {
      throw new Error("the save never reached the disk");
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const names = args.scenario === "typical" ? ["typical-1.ipynb", "typical-2.ipynb"] : ["big.ipynb"];
  const editor = await Editor.start(names.map((name) => path.join(args.folder, name)),
    { withExtension: args.editor === "nbbridge" });
  try {
    const result: Record<string, number> = {};
    if (args.scenario === "typical") {
      result.first = await timeOpen(editor, names[0]);
      result.second = await timeOpen(editor, names[1]);
    } else {
      result.open = await timeOpen(editor, names[0]);
      result.extensionHostMiB = extensionHostMiB(editor);
      result.save = await timeSave(editor, names[0]);
    }
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    editor.saveLogs();
    await editor.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(1);
  },
);
