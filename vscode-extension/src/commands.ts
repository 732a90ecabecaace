// Export, Save and Checkpoint, Revert to Checkpoint: the bridge does the work; these ask
// the user what they want and show what happened.

import * as path from "node:path";
import * as vscode from "vscode";
import type { Bridge } from "./client";
import {
  NOTEBOOK_CHECKPOINT,
  NOTEBOOK_EXPORT,
  type Checkpoint,
  type CheckpointAction,
  type CheckpointParams,
  type CheckpointResults,
} from "./protocol";
import type { BridgeSerializer } from "./serializer";

const EXPORT_FORMATS: Array<{ label: string; format: string; extension: string }> = [
  { label: "HTML", format: "html", extension: ".html" },
  { label: "PDF", format: "pdf", extension: ".pdf" },
  { label: "Python script", format: "python", extension: ".py" },
  { label: "Markdown", format: "markdown", extension: ".md" },
  { label: "Slides (reveal.js HTML)", format: "slides", extension: ".slides.html" },
];

export async function exportNotebook(
  bridge: Bridge,
  serializer: BridgeSerializer,
  notebook: vscode.NotebookDocument,
): Promise<void> {
  const picked = await vscode.window.showQuickPick(EXPORT_FORMATS, { title: "Export the notebook as" });
  if (picked === undefined) {
    return;
  }
  const base = notebook.uri.fsPath.replace(/\.ipynb$/i, "");
  const target = await vscode.window.showSaveDialog({
    title: `Export as ${picked.label}`,
    defaultUri: vscode.Uri.file(base + picked.extension),
  });
  if (target === undefined) {
    return;
  }
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Exporting as ${picked.label}…` },
    async () =>
      bridge.request(NOTEBOOK_EXPORT, {
        uri: notebook.uri.toString(),
        format: picked.format,
        outputUri: target.toString(),
        // Unsaved edits are exported too.
        content: await serializer.currentText(notebook),
      }),
  );
  const choice = await vscode.window.showInformationMessage(`Exported ${path.basename(result.path)}`, "Open");
  if (choice === "Open") {
    await vscode.commands.executeCommand("vscode.open", vscode.Uri.file(result.path));
  }
}

export async function saveAndCheckpoint(bridge: Bridge, notebook: vscode.NotebookDocument): Promise<void> {
  if (!(await notebook.save())) {
    throw new Error("the notebook could not be saved, so no checkpoint was made");
  }
  const { checkpoint } = await checkpointRequest(bridge, { uri: notebook.uri.toString(), action: "create" });
  vscode.window.setStatusBarMessage(`Checkpoint saved (${when(checkpoint)})`, 5000);
}

export async function revertToCheckpoint(bridge: Bridge, notebook: vscode.NotebookDocument): Promise<void> {
  const uri = notebook.uri.toString();
  const { checkpoints } = await checkpointRequest(bridge, { uri, action: "list" });
  if (checkpoints.length === 0) {
    void vscode.window.showInformationMessage("This notebook has no checkpoint yet (nbbridge: Save and Checkpoint).");
    return;
  }
  const picked = await vscode.window.showQuickPick(
    checkpoints.map((checkpoint) => ({
      label: checkpoint.id === "checkpoint" ? "Last checkpoint" : "The file as it was before the last revert",
      description: when(checkpoint),
      checkpoint,
    })),
    { title: "Revert the notebook to" },
  );
  if (picked === undefined) {
    return;
  }
  const confirm = await vscode.window.showWarningMessage(
    `Revert ${path.basename(notebook.uri.fsPath)} to the checkpoint of ${when(picked.checkpoint)}? ` +
      "Unsaved changes are lost; the current file is kept as a checkpoint.",
    { modal: true },
    "Revert",
  );
  if (confirm !== "Revert") {
    return;
  }
  await checkpointRequest(bridge, { uri, action: "restore", id: picked.checkpoint.id });
  await vscode.window.showNotebookDocument(notebook);
  await vscode.commands.executeCommand("workbench.action.files.revert");
}

/** `notebook/checkpoint`, whose result's shape is the action's. */
async function checkpointRequest<A extends CheckpointAction>(
  bridge: Bridge,
  params: CheckpointParams & { action: A },
): Promise<CheckpointResults[A]> {
  return (await bridge.request(NOTEBOOK_CHECKPOINT, params)) as CheckpointResults[A];
}

function when(checkpoint: Checkpoint): string {
  return new Date(checkpoint.lastModified).toLocaleString();
}
