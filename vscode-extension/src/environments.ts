// The Python environments the bridge found, as kernels in the picker beside the kernelspecs:
// each one a spec named `env:<interpreter>`, marked with where it lives. Pure: no `vscode`.

import type { KernelSpec, PythonEnvironment } from "./protocol";
import { remoteOf } from "./remoteSpecs";

const PREFIX = "env:";

/** A picker entry for each environment (the bridge's own is its `python3` kernelspec). */
export function environmentSpecs(environments: readonly PythonEnvironment[]): KernelSpec[] {
  return environments
    .filter((environment) => !environment.bridgeEnvironment)
    .map((environment) => ({
      name: PREFIX + environment.python,
      displayName: environment.name,
      language: "python",
      argv0: environment.python,
      metadata: { environment },
    }));
}

/** The environment a spec stands for, if it stands for one. */
export function environmentOf(spec: KernelSpec): PythonEnvironment | undefined {
  if (!spec.name.startsWith(PREFIX)) {
    return undefined;
  }
  const environment = spec.metadata?.environment;
  return typeof environment === "object" && environment !== null ? (environment as PythonEnvironment) : undefined;
}

/** Where the kernel comes from, as the picker shows it (a NotebookController's `detail`). */
export function groupOf(spec: KernelSpec): string {
  const remote = remoteOf(spec);
  if (remote !== undefined) {
    return `Jupyter Server: ${remote.serverName}`;
  }
  const environment = environmentOf(spec);
  if (environment === undefined) {
    return "Jupyter Kernels";
  }
  return environment.group === "workspace" ? "Workspace Environments" : "Python Environments";
}
