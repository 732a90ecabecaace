// A notebook whose kernel lives on in the kernel host (the window reloaded, the editor or
// the bridge crashed): `kernel/attach` when it opens, and what the kernel did meanwhile
// shown on its cells. The whole journal is asked for: after a reload the document may be
// the file on disk again (VS Code restores a dirty notebook only when its backup was
// written in time), so what this window saw before is no measure of what it shows now.

import * as vscode from "vscode";
import { errorMessage, type Bridge } from "./client";
import type { CellExecutions } from "./execution";
import type { NotebookKernels } from "./kernels";
import { cellIdOf } from "./notebookData";
import { KERNEL_ATTACH, type AttachResult, type JournalExecution, type KernelSpec } from "./protocol";
import { NOTEBOOK_TYPE } from "./serializer";

export class KernelReattach implements vscode.Disposable {
  /** Notebooks asked about since the bridge process started, by URI. */
  private readonly asked = new Set<string>();
  private readonly disposables: vscode.Disposable[];

  /** `controllerOf` names the controller of a kernelspec (undefined: the notebook's
   * preferred one); `onAdopted` makes the kernel's controller the notebook's, resolving
   * once VS Code has it selected (cell executions need that). */
  constructor(
    private readonly bridge: Bridge,
    private readonly kernels: NotebookKernels,
    private readonly executions: CellExecutions,
    private readonly controllerOf: (notebook: vscode.NotebookDocument, specName: string) => vscode.NotebookController | undefined,
    private readonly onAdopted: (notebook: vscode.NotebookDocument, specName: string) => Promise<void>,
  ) {
    this.disposables = [
      bridge.onDidStop(() => this.asked.clear()),
      vscode.workspace.onDidCloseNotebookDocument((notebook) => this.asked.delete(notebook.uri.toString())),
    ];
  }

  /** Asks the bridge once per bridge process whether the host kept a kernel for the
   * notebook; no kernel starts for it until the answer is shown. */
  attach(notebook: vscode.NotebookDocument): void {
    const key = notebook.uri.toString();
    if (notebook.notebookType !== NOTEBOOK_TYPE || this.asked.has(key) || !vscode.workspace.isTrusted) {
      return;
    }
    this.asked.add(key);
    const attaching = this.bridge
      .request(KERNEL_ATTACH, { notebookUri: key })
      .then((result) => this.show(notebook, result))
      .catch((error: unknown) => this.bridge.output.appendLine(`kernel/attach for ${key}: ${errorMessage(error)}`));
    this.kernels.attachFirst(notebook, attaching);
  }

  private async show(notebook: vscode.NotebookDocument, result: AttachResult): Promise<void> {
    const key = notebook.uri.toString();
    if (notebook.isClosed) {
      return;
    }
    if (result.kernel === null) {
      if (result.ended) {
        const specName = result.ended.specName ?? "";
        await this.onAdopted(notebook, specName);
        await this.apply(notebook, this.controllerOf(notebook, specName), result.executions, null);
        void vscode.window.showWarningMessage(
          `nbbridge: the kernel of ${notebook.uri.path.split("/").pop() ?? key} died while the window was closed` +
            (result.ended.reason ? `: ${result.ended.reason}` : "") + ". A new one starts when you run a cell.",
        );
      }
      return;
    }
    const started = result.kernel;
    const language = typeof started.languageInfo.name === "string" ? started.languageInfo.name : "python";
    const spec: KernelSpec = this.kernels.specNamed(started.specName) ?? {
      name: started.specName,
      displayName: started.specName,
      language,
    };
    // the kernel's messages that come meanwhile wait until its journal is shown
    this.executions.hold(started.kernelId);
    try {
      this.kernels.adopt(notebook, started, spec);
      await this.onAdopted(notebook, started.specName);
      await this.apply(notebook, this.controllerOf(notebook, started.specName), result.executions, result.seq);
    } finally {
      this.executions.release(started.kernelId);
    }
  }

  /** The latest journalled run of each cell, on the cell of its id (none found: not
   * shown): a running one is followed; a finished one is shown unless the document has it
   * already (the same count) or the file was saved after it ended (the file says what
   * the user kept of it). */
  private async apply(
    notebook: vscode.NotebookDocument,
    controller: vscode.NotebookController | undefined,
    entries: JournalExecution[],
    seq: number | null,
  ): Promise<void> {
    if (controller === undefined || notebook.isClosed) {
      return;
    }
    const savedAt = await vscode.workspace.fs.stat(notebook.uri).then((stat) => stat.mtime, () => 0);
    const cells = new Map(notebook.getCells().map((cell) => [cellIdOf(cell.metadata), cell]));
    const latest = new Map<string, JournalExecution>();
    for (const entry of entries) {
      if (entry.cellId !== null && entry.status !== "aborted") {
        latest.set(entry.cellId, entry);
      }
    }
    for (const [cellId, entry] of latest) {
      const cell = cells.get(cellId);
      if (cell === undefined) {
        continue;
      }
      try {
        if (entry.status === "running") {
          this.executions.follow(controller, cell, entry, seq);
        } else if (!shows(cell, entry) && (entry.endedAt ?? 0) > savedAt) {
          this.executions.showFinished(controller, cell, entry);
        }
      } catch (error) {
        // a cell this window is running already keeps its own execution
        this.bridge.output.appendLine(`showing a kept run on its cell: ${errorMessage(error)}`);
      }
    }
  }

  dispose(): void {
    this.disposables.forEach((disposable) => disposable.dispose());
  }
}

/** The cell shows that run already: its count is the run's. */
function shows(cell: vscode.NotebookCell, entry: JournalExecution): boolean {
  return entry.executionCount !== null && cell.executionSummary?.executionOrder === entry.executionCount;
}
