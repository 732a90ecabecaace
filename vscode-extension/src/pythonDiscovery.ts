// Finding a CPython the bridge's wheels are built for: pure (no `vscode`), so that the
// unit tests can run it on real folders.

import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The CPython versions the bundled wheels are built for. */
export const SUPPORTED = ["3.11", "3.12", "3.13"];

export class NoPythonError extends Error {}

/** Interpreters to try, most specific first: `preferred` (the Python extension's choice),
 * PATH, pyenv, conda, the usual install locations; only those that exist. */
export function candidatePythons(env: NodeJS.ProcessEnv, home: string, preferred?: string): string[] {
  const found: string[] = preferred ? [preferred] : [];
  const names = ["python3", ...SUPPORTED.map((version) => `python${version}`), "python"];
  for (const folder of (env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
    found.push(...names.map((name) => path.join(folder, name)));
  }
  const pyenv = env.PYENV_ROOT ?? path.join(home, ".pyenv");
  for (const version of listDir(path.join(pyenv, "versions")).sort().reverse()) {
    found.push(path.join(pyenv, "versions", version, "bin", "python"));
  }
  for (const conda of ["miniconda3", "anaconda3", "miniforge3", "mambaforge"]) {
    found.push(path.join(home, conda, "bin", "python"));
  }
  found.push("/opt/conda/bin/python");
  for (const prefix of ["/usr/local/bin", "/usr/bin", "/opt/homebrew/bin"]) {
    found.push(...SUPPORTED.map((version) => path.join(prefix, `python${version}`)));
  }
  return [...new Set(found)].filter((file) => isExecutable(file));
}

export function listDir(folder: string): string[] {
  try {
    return fs.readdirSync(folder);
  } catch {
    return [];
  }
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The first candidate of a supported version, with that version. */
export async function findPython(
  candidates: string[],
  log: (line: string) => void,
): Promise<{ python: string; version: string }> {
  for (const python of candidates) {
    try {
      const { stdout } = await run(python, ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], {
        timeout: 10_000,
      });
      const version = stdout.trim();
      if (SUPPORTED.includes(version)) {
        return { python, version };
      }
      log(`${python} is Python ${version}: not one the bridge's wheels are built for`);
    } catch (error) {
      log(`${python} did not answer: ${String(error)}`);
    }
  }
  throw new NoPythonError(
    `nbbridge needs Python ${SUPPORTED.join(", ")} on this machine and found none ` +
      "(searched the Python extension's interpreter, PATH, pyenv, conda and the usual places). " +
      "Install one (python.org, your package manager, pyenv or conda) and reload the window.",
  );
}
