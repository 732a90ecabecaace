// A Python environment chosen as a kernel that has no ipykernel: asked once, then installed
// there by the bridge (that environment's own pip), with progress.

import * as vscode from "vscode";
import type { Bridge } from "./client";
import { KERNEL_INSTALL_IPYKERNEL, type PythonEnvironment } from "./protocol";

const declined = new Set<string>();

/** Resolves once ipykernel is in `environment`; throws (with what to do) if the user says
 * no, or if the install fails. */
export async function installIpykernel(bridge: Bridge, environment: PythonEnvironment): Promise<void> {
  const refusal = `ipykernel is not installed in ${environment.prefix}: install it there to run cells on this environment`;
  if (declined.has(environment.python)) {
    throw new Error(refusal);
  }
  const choice = await vscode.window.showInformationMessage(
    `Install ipykernel into ${environment.name}? It is needed to run cells there.`,
    "Install",
  );
  if (choice !== "Install") {
    declined.add(environment.python);
    throw new Error(refusal);
  }
  const installed = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `nbbridge: installing ipykernel into ${environment.prefix}` },
    () => bridge.request(KERNEL_INSTALL_IPYKERNEL, { environment: environment.python }),
  );
  environment.ipykernel = installed.ipykernel;
}
