import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { candidatePythons, findPython, NoPythonError } from "../../src/pythonDiscovery";

function folder(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "nbbridge-discovery-"));
}

/** An executable that reports itself as Python `version`. */
function fakePython(dir: string, name: string, version: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\necho ${version}\n`, { mode: 0o755 });
  return file;
}

test("no Python anywhere: a message that says what to install", async () => {
  const empty = folder();
  const candidates = candidatePythons({ PATH: empty }, empty).filter((file) => file.startsWith(empty));
  assert.deepEqual(candidates, []);
  await assert.rejects(findPython(candidates, () => undefined), (error: unknown) => {
    assert.ok(error instanceof NoPythonError);
    assert.match(error.message, /needs Python 3\.11, 3\.12, 3\.13/);
    assert.match(error.message, /Install one/);
    return true;
  });
});

test("an unsupported Python on PATH is passed over for a supported one in pyenv", async () => {
  const home = folder();
  const bin = path.join(home, "bin");
  fs.mkdirSync(bin);
  fakePython(bin, "python3", "3.9");
  const pyenvBin = path.join(home, ".pyenv", "versions", "3.12.1", "bin");
  fs.mkdirSync(pyenvBin, { recursive: true });
  const supported = fakePython(pyenvBin, "python", "3.12");
  const candidates = candidatePythons({ PATH: bin }, home).filter((file) => file.startsWith(home));
  assert.deepEqual(candidates, [path.join(bin, "python3"), supported]);
  const logged: string[] = [];
  assert.deepEqual(await findPython(candidates, (line) => logged.push(line)), {
    python: supported,
    version: "3.12",
  });
  assert.match(logged.join("\n"), /is Python 3\.9/);
});

test("the Python extension's choice comes first", () => {
  const home = folder();
  const chosen = fakePython(home, "chosen", "3.13");
  assert.equal(candidatePythons({ PATH: "" }, home, chosen)[0], chosen);
});
