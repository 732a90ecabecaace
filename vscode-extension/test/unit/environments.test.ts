import assert from "node:assert/strict";
import { test } from "node:test";
import { environmentOf, environmentSpecs, groupOf } from "../../src/environments";
import type { PythonEnvironment } from "../../src/protocol";

const venv: PythonEnvironment = {
  python: "/work/project/.venv/bin/python",
  name: "Python 3.12.1 (venv: .venv)",
  kind: "venv",
  group: "workspace",
  prefix: "/work/project/.venv",
  version: "3.12.1",
  implementation: "cpython",
  ipykernel: false,
  bridgeEnvironment: false,
};

test("each environment is a kernel named by its interpreter, grouped by where it lives", () => {
  const pyenv = { ...venv, python: "/root/.pyenv/versions/3.12.1/bin/python", group: "global" as const, kind: "pyenv" };
  const own = { ...venv, python: "/storage/bridge/bin/python", bridgeEnvironment: true };
  const specs = environmentSpecs([venv, pyenv, own]);
  assert.deepEqual(specs.map((spec) => spec.name), [`env:${venv.python}`, `env:${pyenv.python}`]);
  assert.deepEqual(specs.map(groupOf), ["Workspace Environments", "Python Environments"]);
  assert.deepEqual(environmentOf(specs[0]), venv);
  assert.equal(specs[0].displayName, venv.name);
});

test("a kernelspec is no environment", () => {
  const spec = { name: "python3", displayName: "Python 3", language: "python" };
  assert.equal(environmentOf(spec), undefined);
  assert.equal(groupOf(spec), "Jupyter Kernels");
});
