// On save, the notebook's metadata.widgets takes the state of the widget models its live
// kernel holds, so the file shows them without a kernel (here, in nbconvert's HTML, in
// JupyterLab).

import * as vscode from "vscode";
import type { Bridge } from "./client";
import type { NotebookKernels } from "./kernels";
import { KERNEL_WIDGET_STATE } from "./protocol";
import { WIDGET_STATE_MIME } from "./renderer/messages";
import { NOTEBOOK_TYPE } from "./serializer";

export function saveWidgetState(bridge: Bridge, kernels: NotebookKernels): vscode.Disposable {
  return vscode.workspace.onWillSaveNotebookDocument((event) => {
    const notebook = event.notebook;
    const kernel = kernels.started(notebook);
    if (notebook.notebookType !== NOTEBOOK_TYPE || kernel === undefined || kernels.stateOf(kernel.kernelId) === "dead") {
      return;
    }
    event.waitUntil(
      bridge.request(KERNEL_WIDGET_STATE, { kernelId: kernel.kernelId }).then(
        (state) => {
          const edit = new vscode.WorkspaceEdit();
          if (Object.keys(state.state).length === 0) {
            return edit;
          }
          const fileMetadata = (notebook.metadata.metadata ?? {}) as Record<string, unknown>;
          const widgets = (fileMetadata.widgets ?? {}) as Record<string, unknown>;
          const metadata = { ...fileMetadata, widgets: { ...widgets, [WIDGET_STATE_MIME]: state } };
          edit.set(notebook.uri, [vscode.NotebookEdit.updateNotebookMetadata({ ...notebook.metadata, metadata })]);
          return edit;
        },
        // the kernel is gone: the file keeps what it had
        () => new vscode.WorkspaceEdit(),
      ),
    );
  });
}
