// activate(): start the bridge, register the serializer, the kernels and the commands.

import * as vscode from "vscode";
import { Bridge, errorMessage } from "./client";
import { exportNotebook, revertToCheckpoint, saveAndCheckpoint } from "./commands";
import { KernelControllers } from "./controller";
import { answerInputRequests } from "./inputPrompt";
import { JupyterServers } from "./jupyterServers";
import { NotebookKernels } from "./kernels";
import { RunningKernels } from "./runningKernels";
import { BridgeSerializer, NOTEBOOK_TYPE } from "./serializer";
import { KernelStatusBar } from "./statusBar";
import { WidgetMessaging } from "./widgetMessaging";
import { saveWidgetState } from "./widgetSave";

let bridge: Bridge | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel("nbbridge");
  const connection = new Bridge(output, context);
  bridge = connection;
  const kernels = new NotebookKernels(connection);
  const serializer = new BridgeSerializer(connection);
  const servers = new JupyterServers(connection, context.secrets);
  const controllers = new KernelControllers(connection, kernels, servers);
  context.subscriptions.push(
    servers,
    output,
    kernels,
    new KernelStatusBar(kernels),
    new RunningKernels(connection, kernels),
    answerInputRequests(connection),
    controllers,
    new WidgetMessaging(connection, kernels, controllers.executions),
    saveWidgetState(connection, kernels),
    vscode.workspace.registerNotebookSerializer(NOTEBOOK_TYPE, serializer),
    notebookCommand("nbbridge.restartKernel", (notebook) => kernels.restart(notebook)),
    notebookCommand("nbbridge.interruptKernel", (notebook) => kernels.interrupt(notebook)),
    notebookCommand("nbbridge.restartAndRunAll", async (notebook) => {
      await kernels.restart(notebook);
      await vscode.commands.executeCommand("notebook.execute", notebook.uri);
    }),
    notebookCommand("nbbridge.export", (notebook) => exportNotebook(connection, serializer, notebook)),
    notebookCommand("nbbridge.saveAndCheckpoint", (notebook) => saveAndCheckpoint(connection, notebook)),
    notebookCommand("nbbridge.revertToCheckpoint", (notebook) => revertToCheckpoint(connection, notebook)),
    vscode.commands.registerCommand("nbbridge.showBridgeLog", () => output.show()),
    vscode.commands.registerCommand("nbbridge.selectBridgePython", selectBridgePython),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("nbbridge.pythonPath") || event.affectsConfiguration("nbbridge.logLevel")) {
        void connection.restart();
      }
    }),
  );
  void connection.start().catch((error: unknown) => {
    void vscode.window.showErrorMessage(`nbbridge: ${errorMessage(error)}`, "Show Log").then((choice) => {
      if (choice === "Show Log") {
        output.show();
      }
    });
  });
}

export async function deactivate(): Promise<void> {
  await bridge?.dispose();
  bridge = undefined;
}

/** A command acting on the active notebook; its failure is shown, not swallowed. */
function notebookCommand(
  id: string,
  action: (notebook: vscode.NotebookDocument) => Promise<void>,
): vscode.Disposable {
  return vscode.commands.registerCommand(id, async () => {
    const notebook = vscode.window.activeNotebookEditor?.notebook;
    if (notebook === undefined || notebook.notebookType !== NOTEBOOK_TYPE) {
      void vscode.window.showInformationMessage("nbbridge: open a notebook first");
      return;
    }
    try {
      await action(notebook);
    } catch (error) {
      void vscode.window.showErrorMessage(`nbbridge: ${errorMessage(error)}`);
    }
  });
}

async function selectBridgePython(): Promise<void> {
  const picked = await vscode.window.showOpenDialog({
    title: "Python that runs the bridge (needs the nbbridge package installed)",
    canSelectMany: false,
    openLabel: "Use this Python",
  });
  if (picked?.[0] !== undefined) {
    // Changing the setting restarts the bridge (see onDidChangeConfiguration).
    await vscode.workspace
      .getConfiguration("nbbridge")
      .update("pythonPath", picked[0].fsPath, vscode.ConfigurationTarget.Global);
  }
}
