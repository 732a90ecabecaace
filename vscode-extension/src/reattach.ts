// A notebook whose kernel lives on in the kernel host (the window reloaded, the editor or
// the bridge crashed): `kernel/attach` when it opens, and what the kernel did meanwhile
// shown on its cells. The last kernel message number seen per notebook is kept in the
// workspace state, so that only what changed since comes back.

import * as vscode from "vscode";
import { errorMessage, type Bridge } from "./client";
import type { CellExecutions } from "./execution";
import type { NotebookKernels } from "./kernels";
import { cellIdOf } from "./notebookData";
import { KERNEL_ATTACH, type AttachResult, type JournalExecution, type KernelSpec } from "./protocol";
import { NOTEBOOK_TYPE } from "./serializer";

/** What the workspace state keeps per notebook. */
interface SeenSeq {
  kernelId: string;
  seq: number;
}

const STATE_PREFIX = "nbbridge.seenSeq:";
const SAVE_DELAY_MS = 500;

export class KernelReattach implements vscode.Disposable {
  /** Notebooks asked about since the bridge process started, by URI. */
  private readonly asked = new Set<string>();
  /** Numbers seen but not saved yet, by notebook URI. */
  private readonly unsaved = new Map<string, SeenSeq>();
  private saveTimer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[];

  /** `controllerOf` names the controller of a kernelspec (undefined: the notebook's
   * preferred one); `onAdopted` makes the kernel's controller the notebook's. */
  constructor(
    private readonly bridge: Bridge,
    private readonly kernels: NotebookKernels,
    private readonly executions: CellExecutions,
    private readonly state: vscode.Memento,
    private readonly controllerOf: (notebook: vscode.NotebookDocument, specName: string) => vscode.NotebookController | undefined,
    private readonly onAdopted: (notebook: vscode.NotebookDocument, specName: string) => void,
  ) {
    this.disposables = [
      bridge.onDidStop(() => this.asked.clear()),
      executions.onDidSeeSeq(({ kernelId, seq }) => {
        const notebook = kernels.notebookOf(kernelId);
        if (notebook !== undefined) {
          this.remember(notebook.uri.toString(), { kernelId, seq });
        }
      }),
      vscode.workspace.onDidCloseNotebookDocument((notebook) => {
        this.asked.delete(notebook.uri.toString());
        void this.state.update(STATE_PREFIX + notebook.uri.toString(), undefined);
      }),
    ];
  }

  /** Asks the bridge once per bridge process whether the host kept a kernel for the
   * notebook; no kernel starts for it until the answer is in. */
  attach(notebook: vscode.NotebookDocument): void {
    const key = notebook.uri.toString();
    if (notebook.notebookType !== NOTEBOOK_TYPE || this.asked.has(key) || !vscode.workspace.isTrusted) {
      return;
    }
    this.asked.add(key);
    const seen = this.state.get<SeenSeq>(STATE_PREFIX + key);
    const attaching = this.bridge
      .request(KERNEL_ATTACH, { notebookUri: key, ...(seen !== undefined && { afterSeq: seen.seq }) })
      .then((result) => this.show(notebook, result))
      .catch((error: unknown) => this.bridge.output.appendLine(`kernel/attach for ${key}: ${errorMessage(error)}`));
    this.kernels.attachFirst(notebook, attaching);
  }

  private show(notebook: vscode.NotebookDocument, result: AttachResult): void {
    const key = notebook.uri.toString();
    if (notebook.isClosed) {
      return;
    }
    if (result.kernel === null) {
      if (result.ended) {
        const controller = this.controllerOf(notebook, result.ended.specName ?? "");
        this.apply(notebook, controller, result.executions, null);
        void vscode.window.showWarningMessage(
          `nbbridge: the kernel of ${notebook.uri.path.split("/").pop() ?? key} died while the window was closed` +
            (result.ended.reason ? `: ${result.ended.reason}` : "") + ". A new one starts when you run a cell.",
        );
      }
      void this.state.update(STATE_PREFIX + key, undefined);
      return;
    }
    const started = result.kernel;
    const language = typeof started.languageInfo.name === "string" ? started.languageInfo.name : "python";
    const spec: KernelSpec = this.kernels.specNamed(started.specName) ?? {
      name: started.specName,
      displayName: started.specName,
      language,
    };
    this.kernels.adopt(notebook, started, spec);
    // at once, in the same turn as the answer: the followed runs' next outputs are not lost
    this.apply(notebook, this.controllerOf(notebook, started.specName), result.executions, result.seq);
    if (result.seq !== null) {
      this.remember(key, { kernelId: started.kernelId, seq: result.seq });
    }
    this.onAdopted(notebook, started.specName);
  }

  /** Each journalled run on the cell of its id (none found: not shown). */
  private apply(
    notebook: vscode.NotebookDocument,
    controller: vscode.NotebookController | undefined,
    entries: JournalExecution[],
    seq: number | null,
  ): void {
    if (controller === undefined) {
      return;
    }
    const cells = new Map(notebook.getCells().map((cell) => [cellIdOf(cell.metadata), cell]));
    for (const entry of entries) {
      const cell = entry.cellId === null ? undefined : cells.get(entry.cellId);
      if (cell === undefined) {
        continue;
      }
      try {
        if (entry.status === "running") {
          this.executions.follow(controller, cell, entry, seq);
        } else {
          this.executions.showFinished(controller, cell, entry);
        }
      } catch (error) {
        // a cell this window is running already keeps its own execution
        this.bridge.output.appendLine(`showing a kept run on its cell: ${errorMessage(error)}`);
      }
    }
  }

  private remember(key: string, seen: SeenSeq): void {
    this.unsaved.set(key, seen);
    this.saveTimer ??= setTimeout(() => this.save(), SAVE_DELAY_MS);
  }

  private save(): void {
    this.saveTimer = undefined;
    for (const [key, seen] of this.unsaved) {
      void this.state.update(STATE_PREFIX + key, seen);
    }
    this.unsaved.clear();
  }

  dispose(): void {
    clearTimeout(this.saveTimer);
    this.save();
    this.disposables.forEach((disposable) => disposable.dispose());
  }
}
