// A Jupyter Server's kernel from VS Code: "Connect to Jupyter Server…" with its URL and
// token, its kernel picked from the kernel picker, Shift+Enter runs the cell there.

import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { Editor, missingPart } from "./editor";

const LONG = { timeout: Number(process.env.NBBRIDGE_E2E_TIMEOUT ?? 300_000) };
const NOTEBOOK = "on-server.ipynb";
const CODE = 'import os; print("runtime=" + os.environ["JUPYTER_RUNTIME_DIR"])';

function notebook(): string {
  return JSON.stringify({
    cells: [{ cell_type: "code", execution_count: null, id: "c1", metadata: {}, outputs: [], source: [CODE] }],
    metadata: {},
    nbformat: 4,
    nbformat_minor: 5,
  }, null, 1) + "\n";
}

interface RunningServer {
  process: ChildProcess;
  url: string;
  token: string;
  runtime: string;
}

/** A real jupyter_server on 127.0.0.1, in its own process group; its URL from its runtime file. */
async function startServer(python: string): Promise<RunningServer> {
  const runtime = fs.mkdtempSync(path.join(os.tmpdir(), "nbbridge-e2e-server-"));
  const token = crypto.randomBytes(16).toString("hex");
  const child = spawn(python, ["-m", "jupyter_server", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
    "--ServerApp.port=0", `--IdentityProvider.token=${token}`, `--ServerApp.root_dir=${runtime}`], {
    env: { ...process.env, JUPYTER_RUNTIME_DIR: runtime },
    detached: true,
    stdio: "ignore",
  });
  for (let waited = 0; waited < 60_000; waited += 200) {
    const file = fs.readdirSync(runtime).find((name) => /^jpserver-\d+\.json$/.test(name));
    if (file !== undefined) {
      try {
        const info = JSON.parse(fs.readFileSync(path.join(runtime, file), "utf8")) as { url: string };
        return { process: child, url: info.url, token, runtime };
      } catch {
        // still being written
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error("jupyter_server did not start");
}

describe("a Jupyter Server's kernel", { skip: missingPart() }, () => {
  let editor: Editor;
  let server: RunningServer;

  before(async () => {
    const root = process.env.NBBRIDGE_ROOT ?? path.resolve(__dirname, "..", "..", "..");
    server = await startServer(path.join(root, ".venv", "bin", "python"));
    editor = await Editor.start([], { files: { [NOTEBOOK]: notebook() } });
  });

  after(async () => {
    if (editor !== undefined) {
      await editor.screenshot("remote-zz-last").catch(() => undefined);
      editor.saveLogs();
      await editor.stop();
    }
    if (server?.process.pid !== undefined) {
      try {
        process.kill(-server.process.pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
  });

  test("connected with URL and token, its kernel picked, Shift+Enter runs there", LONG, async () => {
    await editor.openNotebook(NOTEBOOK);
    await editor.command("nbbridge: Connect to Jupyter Server…");
    const input = editor.page.locator(".quick-input-widget:visible .quick-input-box input");
    // the palette's own input goes first: fill the box only once it is the command's
    await editor.quickInput().filter({ hasText: "The server's URL" }).waitFor(LONG);
    await input.fill(server.url);
    await editor.page.keyboard.press("Enter");
    await editor.quickInput().filter({ hasText: "Token for" }).waitFor(LONG);
    await input.fill(server.token);
    await editor.page.keyboard.press("Enter");
    await editor.page.locator(".notifications-toasts").filter({ hasText: /connected to http/ }).waitFor(LONG);
    await editor.screenshot("remote-01-connected");

    const host = new URL(server.url).host;
    await editor.pickKernel(host, "remote-02-picker", LONG.timeout);
    await editor.focusCell("runtime=");
    await editor.page.keyboard.press("Shift+Enter");
    await editor.outputs().getByText(`runtime=${server.runtime}`).waitFor(LONG);
    await editor.screenshot("remote-03-ran-on-server");

    // the server's own sessions list shows the notebook
    const sessions = await fetch(`${server.url}api/sessions`, { headers: { Authorization: `token ${server.token}` } });
    const listed = (await sessions.json()) as { path: string }[];
    assert.ok(listed.some((session) => session.path === NOTEBOOK), JSON.stringify(listed));
    // the token is in no log the extension or the bridge wrote
    assert.ok(!editor.log().includes(server.token));
  });
});
