// Running cells: a NotebookCellExecution for each (its states in cellRun.ts), sent to the
// bridge's `kernel/execute`, and the `kernel/output` ops applied to the cells' outputs;
// also the runs this window did not send (before a reload, or another window's) that the
// bridge follows, which end with `kernel/executionEnded`.

import { randomUUID } from "node:crypto";
import * as vscode from "vscode";
import { CellRun, runInOrder } from "./cellRun";
import { errorMessage, type Bridge } from "./client";
import type { NotebookKernels, StartedKernel } from "./kernels";
import { joinText, streamMime, textItem, type NbOutput } from "./outputs";
import { cellIdOf, takesCellIds } from "./notebookData";
import {
  KERNEL_EXECUTE,
  KERNEL_EXECUTION_ENDED,
  KERNEL_OUTPUT,
  type ExecutionEndedParams,
  type JournalExecution,
  type OutputOp,
  type OutputParams,
} from "./protocol";
import { cellOutput, savedOutput } from "./serializer";
import { WaitingMessages } from "./waitingMessages";

/** One output as shown: the nbformat dict it stands for and the VS Code output showing it. */
export interface ShownOutput {
  dict: NbOutput;
  output: vscode.NotebookCellOutput;
}

/** A cell's outputs as the running kernel produced them, keyed by the cell. */
interface CellOutputs {
  cell: vscode.NotebookCell;
  shown: ShownOutput[];
}

class RunningCell extends CellRun<vscode.NotebookCellExecution> {
  readonly outputs: CellOutputs;
  /** A followed run: ops the journal already held (numbered up to this) are skipped. */
  journalSeq: number | undefined;

  constructor(execution: vscode.NotebookCellExecution, onStart: () => void) {
    super(execution, onStart);
    this.outputs = { cell: execution.cell, shown: [] };
  }
}

export class CellExecutions implements vscode.Disposable {
  /** The runs the bridge may still send outputs for, by executionId. */
  private readonly running = new Map<string, RunningCell>();
  /** The outputs each cell shows from its last run, by cell URI: `replace` ops reach them. */
  private readonly cellOutputs = new Map<string, CellOutputs>();
  /** Widget messages being handled by the kernel, by executionId: the cell showing the
   * widget gets what the kernel prints meanwhile (an observe callback's print). */
  private readonly callbackCells = new Map<string, vscode.NotebookCell>();
  /** Messages of runs not shown yet (their kernel's attach is under way). */
  private readonly waiting = new WaitingMessages();
  private readonly disposables: vscode.Disposable[];

  /** `controllerOf` names the controller of a kernelspec, for outputs of an earlier run. */
  constructor(
    private readonly bridge: Bridge,
    private readonly kernels: NotebookKernels,
    private readonly controllerOf: (specName: string) => vscode.NotebookController | undefined,
  ) {
    this.disposables = [
      bridge.onDidStart((client) => {
        client.onNotification(KERNEL_OUTPUT, (params: OutputParams) => this.output(params));
        client.onNotification(KERNEL_EXECUTION_ENDED, (params: ExecutionEndedParams) => this.ended(params));
      }),
      bridge.onDidStop(() => this.bridgeStopped()),
      vscode.workspace.onDidCloseNotebookDocument((notebook) => {
        for (const cell of notebook.getCells()) {
          this.cellOutputs.delete(cell.document.uri.toString());
        }
      }),
    ];
  }

  /** The controller's execute handler: the cells, in order, on the notebook's kernel. */
  async execute(
    controller: vscode.NotebookController,
    specName: string,
    cells: vscode.NotebookCell[],
    notebook: vscode.NotebookDocument,
  ): Promise<void> {
    const runs = cells.map((cell) => this.createRun(controller, cell));
    let kernel: StartedKernel;
    try {
      kernel = await this.kernels.ready(notebook, specName);
    } catch (error) {
      const message = `The kernel could not start: ${errorMessage(error)}`;
      void vscode.window.showErrorMessage(`nbbridge: ${message}`);
      const [first, ...rest] = runs;
      if (first !== undefined) {
        first.begin();
        this.append(first, { output_type: "error", ename: "KernelStartError", evalue: message, traceback: [message] });
        first.finish(false);
      }
      rest.forEach((run) => run.finish(undefined));
      return;
    }
    await runInOrder(runs, (run) => this.send(kernel, run));
  }

  private createRun(controller: vscode.NotebookController, cell: vscode.NotebookCell): RunningCell {
    const execution = controller.createNotebookCellExecution(cell);
    const run: RunningCell = new RunningCell(execution, () =>
      this.cellOutputs.set(run.execution.cell.document.uri.toString(), run.outputs),
    );
    execution.token.onCancellationRequested(() => run.cancel(() => void this.kernels.interrupt(cell.notebook)));
    return run;
  }

  private async send(kernel: StartedKernel, run: RunningCell): Promise<void> {
    if (run.ended) {
      return;
    }
    const executionId = randomUUID();
    this.running.set(executionId, run);
    try {
      const cellId = await this.cellId(run.execution.cell);
      const result = await this.bridge.request(KERNEL_EXECUTE, {
        kernelId: kernel.kernelId,
        code: run.execution.cell.document.getText(),
        executionId,
        ...(cellId !== undefined && { cellId }),
      });
      run.settle(result);
    } catch (error) {
      run.begin();
      const message = errorMessage(error);
      this.append(run, { output_type: "error", ename: "BridgeError", evalue: message, traceback: [message] });
      run.finish(false);
    } finally {
      this.running.delete(executionId);
    }
  }

  /** The cell's nbformat id, given one now if its notebook takes ids and it has none (a
   * cell added in the editor): the kernel host journals the run under it, so that after
   * a reload the run finds its cell. */
  private async cellId(cell: vscode.NotebookCell): Promise<string | undefined> {
    const known = cellIdOf(cell.metadata);
    if (known !== undefined || !takesCellIds(cell.notebook.metadata)) {
      return known;
    }
    const id = randomUUID().slice(0, 8);
    const edit = new vscode.WorkspaceEdit();
    edit.set(cell.notebook.uri, [vscode.NotebookEdit.updateCellMetadata(cell.index, { ...cell.metadata, id })]);
    return (await vscode.workspace.applyEdit(edit)) ? id : undefined;
  }

  /** A run the kernel host's journal has as running: shown running from its start, with
   * the journal's outputs, going on with the bridge's later `kernel/output`. */
  follow(controller: vscode.NotebookController, cell: vscode.NotebookCell, entry: JournalExecution, seq: number | null): void {
    const executionId = entry.executionId ?? entry.msgId;
    const run = this.createRun(controller, cell);
    run.journalSeq = seq ?? undefined;
    run.begin(entry.startedAt ?? undefined);
    for (const dict of entry.outputs) {
      this.append(run, dict);
    }
    this.running.set(executionId, run);
    const kept = this.waiting.take(executionId);
    kept.outputs.forEach((params) => this.output(params));
    if (kept.end !== undefined) {
      this.ended(kept.end);
    }
  }

  /** Messages of the kernel's runs wait until `release`: its attach is being shown. */
  hold(kernelId: string): void {
    this.waiting.hold(kernelId);
  }

  /** The kernel's attach is shown: the messages that waited go where they belong now
   * (a run the journal did not have yet is followed on its cell). */
  release(kernelId: string): void {
    const kept = this.waiting.release(kernelId);
    kept.outputs.forEach((params) => this.output(params));
    kept.ends.forEach((end) => this.ended(end));
  }

  /** A run the journal has as ended: its outputs, count and outcome on the cell. */
  showFinished(controller: vscode.NotebookController, cell: vscode.NotebookCell, entry: JournalExecution): void {
    if (entry.status === "aborted") {
      return; // it never ran: the cell keeps what it showed
    }
    const execution = controller.createNotebookCellExecution(cell);
    execution.executionOrder = entry.executionCount ?? undefined;
    execution.start(entry.startedAt ?? undefined);
    void execution.replaceOutput(entry.outputs.map((dict) => cellOutput(dict)));
    execution.end(entry.status === "ok", entry.endedAt ?? undefined);
  }

  private output(params: OutputParams): void {
    const run = this.running.get(params.executionId) ?? this.followOther(params.kernelId, params.executionId, params.cellId);
    if (run === undefined && !this.callbackCells.has(params.executionId)) {
      // a run of a kernel whose attach has not answered yet: kept until it does
      this.waiting.keepOutput(params);
      return;
    }
    if (run?.journalSeq !== undefined && params.seq !== undefined && params.seq <= run.journalSeq) {
      return; // already in the journal's outputs
    }
    this.applyOps(params.executionId, params.ops);
  }

  /** Another client's run on a kernel this window shows: followed on the cell it names. */
  private followOther(kernelId: string, executionId: string, cellId: string | undefined): RunningCell | undefined {
    if (this.waiting.isHeld(kernelId)) {
      return undefined;
    }
    const notebook = this.kernels.notebookOf(kernelId);
    const kernel = notebook === undefined ? undefined : this.kernels.started(notebook);
    const cell = notebook?.getCells().find((candidate) => cellIdOf(candidate.metadata) === cellId);
    const controller = this.controllerOf(kernel?.spec.name ?? "");
    if (cellId === undefined || cell === undefined || controller === undefined) {
      return undefined;
    }
    let run: RunningCell;
    try {
      run = this.createRun(controller, cell);
    } catch {
      // its controller is not the notebook's yet (an attach is selecting it): kept for then
      return undefined;
    }
    run.begin();
    this.running.set(executionId, run);
    return run;
  }

  private ended(params: ExecutionEndedParams): void {
    const run = this.running.get(params.executionId) ?? this.followOther(params.kernelId, params.executionId, params.cellId);
    if (run === undefined) {
      // a run whose attach has not answered yet, or one of a notebook not open here
      this.waiting.keepEnd(params);
      return;
    }
    this.waiting.forget(params.executionId);
    this.running.delete(params.executionId);
    run.settle(params);
  }

  private append(run: RunningCell, dict: NbOutput): ShownOutput {
    const shown = { dict, output: cellOutput(dict) };
    run.outputs.shown.push(shown);
    void run.execution.appendOutput(shown.output);
    return shown;
  }

  /** Outputs under `executionId` go to `cell` until the returned disposable is disposed. */
  outputsToCell(executionId: string, cell: vscode.NotebookCell): vscode.Disposable {
    this.callbackCells.set(executionId, cell);
    return new vscode.Disposable(() => this.callbackCells.delete(executionId));
  }

  private applyOps(executionId: string, ops: OutputOp[]): void {
    const callbackCell = this.callbackCells.get(executionId);
    const run =
      callbackCell === undefined
        ? this.running.get(executionId)
        : [...this.running.values()].find((other) => other.execution.cell === callbackCell && !other.ended);
    if (run === undefined && callbackCell !== undefined) {
      this.applyToIdleCell(callbackCell, ops);
      return;
    }
    if (run === undefined || run.ended) {
      return;
    }
    run.begin();
    for (const op of ops) {
      switch (op.op) {
        case "append": {
          const shown = this.append(run, op.output);
          if (op.displayId) {
            const kernel = this.kernelOfRun(run);
            kernel?.displays.set(op.displayId, [...(kernel.displays.get(op.displayId) ?? []), shown]);
          }
          break;
        }
        case "appendText": {
          const last = run.outputs.shown.at(-1);
          if (last !== undefined && last.dict.output_type === "stream" && last.dict.name === op.name) {
            last.dict = { ...last.dict, text: joinText(last.dict.text) + op.text };
            void run.execution.appendOutputItems(
              new vscode.NotebookCellOutputItem(textItem(streamMime(op.name), op.text).data, streamMime(op.name)),
              last.output,
            );
          } else {
            this.append(run, { output_type: "stream", name: op.name, text: op.text });
          }
          break;
        }
        case "replace":
          this.replaceDisplay(run, op.displayId, op.output);
          break;
        case "clear":
          run.outputs.shown = [];
          void run.execution.clearOutput();
          break;
      }
    }
  }

  /** A cell that is not running: a short execution carries the new outputs, keeping its
   * execution order. */
  private applyToIdleCell(cell: vscode.NotebookCell, ops: OutputOp[]): void {
    const controller = this.controllerOf(this.kernels.started(cell.notebook)?.spec.name ?? "");
    if (controller === undefined) {
      return;
    }
    let dicts = cell.outputs.map(savedOutput);
    for (const op of ops) {
      if (op.op === "clear") {
        dicts = [];
      } else if (op.op === "append") {
        dicts.push(op.output);
      } else if (op.op === "appendText") {
        const last = dicts.at(-1);
        if (last !== undefined && last.output_type === "stream" && last.name === op.name) {
          dicts[dicts.length - 1] = { ...last, text: joinText(last.text) + op.text };
        } else {
          dicts.push({ output_type: "stream", name: op.name, text: op.text });
        }
      }
    }
    const order = cell.executionSummary?.executionOrder;
    const execution = controller.createNotebookCellExecution(cell);
    execution.executionOrder = order;
    execution.start();
    void execution.replaceOutput(dicts.map((dict) => cellOutput(dict)));
    execution.end(cell.executionSummary?.success);
  }

  private kernelOfRun(run: RunningCell): StartedKernel | undefined {
    // The kernel of a running cell's notebook has started already.
    return this.kernels.started(run.execution.cell.notebook);
  }

  /** update_display_data: every output shown with that display id, in any cell, changes. */
  private replaceDisplay(run: RunningCell, displayId: string, output: NbOutput): void {
    const kernel = this.kernelOfRun(run);
    const shownList = kernel?.displays.get(displayId) ?? [];
    const touched = new Set<CellOutputs>();
    for (const shown of shownList) {
      shown.dict = { ...shown.dict, data: output.data ?? {}, metadata: output.metadata ?? {} };
      shown.output = cellOutput(shown.dict);
      for (const outputs of this.cellOutputs.values()) {
        if (outputs.shown.includes(shown)) {
          touched.add(outputs);
        }
      }
    }
    for (const outputs of touched) {
      const replacement = outputs.shown.map((shown) => shown.output);
      const current = [...this.running.values()].find((other) => other.outputs === outputs && !other.ended);
      if (current !== undefined) {
        void current.execution.replaceOutput(replacement);
        continue;
      }
      // An earlier cell: a short execution carries the change, keeping its execution order.
      const controller = this.controllerOf(kernel?.spec.name ?? "");
      if (controller === undefined) {
        continue;
      }
      const order = outputs.cell.executionSummary?.executionOrder;
      const execution = controller.createNotebookCellExecution(outputs.cell);
      execution.executionOrder = order;
      execution.start();
      void execution.replaceOutput(replacement);
      execution.end(outputs.cell.executionSummary?.success);
    }
  }

  /** Everything the bridge held is gone: no cell may stay running or pending. */
  private bridgeStopped(): void {
    for (const run of this.running.values()) {
      run.begin();
      this.append(run, {
        output_type: "error",
        ename: "BridgeStopped",
        evalue: "the nbbridge process stopped while this cell ran",
        traceback: ["the nbbridge process stopped while this cell ran"],
      });
      run.finish(false);
    }
    this.running.clear();
    this.waiting.clear();
  }

  dispose(): void {
    this.disposables.forEach((disposable) => disposable.dispose());
  }
}
