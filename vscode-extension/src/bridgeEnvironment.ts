// The bridge's own Python environment, made once under the extension's global storage from
// the wheels the .vsix carries (no network), with any CPython 3.11-3.13 found on the machine.

import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import * as vscode from "vscode";
import { candidatePythons, findPython, listDir } from "./pythonDiscovery";

export { NoPythonError } from "./pythonDiscovery";

const run = promisify(execFile);
const LOCK_STALE_MS = 10 * 60_000;

/** Where the bridge's environment for this extension version and Python lives. */
export interface BridgeEnvironment {
  python: string;
  wheels: string;
}

interface PythonExtensionApi {
  environments?: { getActiveEnvironmentPath?: () => { path?: string } | undefined };
}

/** The Python extension's selected interpreter, when that extension is installed. */
async function selectedInterpreter(): Promise<string | undefined> {
  const pythonExtension = vscode.extensions.getExtension<PythonExtensionApi>("ms-python.python");
  if (pythonExtension === undefined) {
    return undefined;
  }
  try {
    const api = pythonExtension.isActive ? pythonExtension.exports : await pythonExtension.activate();
    return api?.environments?.getActiveEnvironmentPath?.()?.path || undefined;
  } catch {
    return undefined; // optional: without it the other places are searched
  }
}

/** The bridge's environment for this extension version, made now if it is not there yet
 * (once per machine: another window making it meanwhile is waited for). */
export async function ensureBridgeEnvironment(
  context: vscode.ExtensionContext,
  log: (line: string) => void,
): Promise<BridgeEnvironment> {
  const wheels = path.join(context.extensionPath, "wheels");
  if (!fs.existsSync(wheels)) {
    throw new Error(`this .vsix carries no wheels at ${wheels}; set nbbridge.pythonPath to a Python with nbbridge`);
  }
  const version = String((context.extension.packageJSON as { version?: string }).version ?? "0");
  const root = path.join(context.globalStorageUri.fsPath, "bridge");
  fs.mkdirSync(root, { recursive: true });
  for (const entry of listDir(root)) {
    const made = readStamp(path.join(root, entry));
    if (made !== undefined && made.extension === version) {
      log(`the bridge's environment: ${path.join(root, entry)} (made ${made.at})`);
      return { python: path.join(root, entry, "bin", "python"), wheels };
    }
  }
  const found = await findPython(candidatePythons(process.env, os.homedir(), await selectedInterpreter()), log);
  const target = path.join(root, `${version}-py${found.version}`);
  await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `nbbridge: setting up its Python environment (Python ${found.version}, once)`,
    },
    () => withLock(`${target}.lock`, () => build(target, found.python, wheels, version, log)),
  );
  for (const entry of listDir(root)) {
    // environments of older extension versions are no longer used
    if (path.join(root, entry) !== target && !entry.endsWith(".lock")) {
      fs.rmSync(path.join(root, entry), { recursive: true, force: true });
    }
  }
  return { python: path.join(target, "bin", "python"), wheels };
}

interface Stamp {
  extension: string;
  at: string;
}

function readStamp(folder: string): Stamp | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(folder, "nbbridge-environment.json"), "utf8")) as Stamp;
  } catch {
    return undefined;
  }
}

async function build(target: string, python: string, wheels: string, version: string, log: (line: string) => void): Promise<void> {
  if (readStamp(target)?.extension === version) {
    return; // another window made it while this one waited
  }
  fs.rmSync(target, { recursive: true, force: true });
  const began = Date.now();
  log(`making the bridge's environment in ${target} with ${python}`);
  // without pip: Debian's python3 has no ensurepip; pip comes from the bundled wheel
  await step(python, ["-m", "venv", "--without-pip", target], log);
  const pip = listDir(wheels).find((name) => name.startsWith("pip-") && name.endsWith(".whl"));
  if (pip === undefined) {
    throw new Error(`no pip wheel in ${wheels}`);
  }
  await step(
    path.join(target, "bin", "python"),
    [path.join(wheels, pip, "pip"), "install", "--no-index", "--find-links", wheels, "--disable-pip-version-check", "nbbridge"],
    log,
  );
  const stamp: Stamp = { extension: version, at: new Date().toISOString() };
  fs.writeFileSync(path.join(target, "nbbridge-environment.json"), JSON.stringify(stamp));
  log(`the bridge's environment is ready (${((Date.now() - began) / 1000).toFixed(1)} s)`);
}

async function step(command: string, args: string[], log: (line: string) => void): Promise<void> {
  log(`$ ${command} ${args.join(" ")}`);
  try {
    const { stdout, stderr } = await run(command, args, { timeout: 10 * 60_000, maxBuffer: 16 << 20 });
    for (const line of `${stdout}${stderr}`.split("\n").filter(Boolean)) {
      log(`  ${line}`);
    }
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    log(`  ${failed.stdout ?? ""}${failed.stderr ?? ""}`);
    throw new Error(`setting up the bridge's environment failed: ${command} ${args[0]}: ${String(error)}`);
  }
}

/** Run `work` holding a lock folder; a lock older than LOCK_STALE_MS is taken over. */
async function withLock(lock: string, work: () => Promise<void>): Promise<void> {
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? 0);
      if (age > LOCK_STALE_MS) {
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  try {
    await work();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}
