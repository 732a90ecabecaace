// Running cells: a NotebookCellExecution for each (its states in cellRun.ts), sent to the
// bridge's `kernel/execute`, and the `kernel/output` ops applied to the cells' outputs.

import { randomUUID } from "node:crypto";
import * as vscode from "vscode";
import { CellRun, runInOrder } from "./cellRun";
import { errorMessage, type Bridge } from "./client";
import type { NotebookKernels, StartedKernel } from "./kernels";
import { joinText, streamMime, textItem, type NbOutput } from "./outputs";
import { KERNEL_EXECUTE, KERNEL_OUTPUT, type OutputOp, type OutputParams } from "./protocol";
import { cellOutput, savedOutput } from "./serializer";

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
  private readonly disposables: vscode.Disposable[];

  /** `controllerOf` names the controller of a kernelspec, for outputs of an earlier run. */
  constructor(
    private readonly bridge: Bridge,
    private readonly kernels: NotebookKernels,
    private readonly controllerOf: (specName: string) => vscode.NotebookController | undefined,
  ) {
    this.disposables = [
      bridge.onDidStart((client) => {
        client.onNotification(KERNEL_OUTPUT, (params: OutputParams) => this.applyOps(params.executionId, params.ops));
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
      const result = await this.bridge.request(KERNEL_EXECUTE, {
        kernelId: kernel.kernelId,
        code: run.execution.cell.document.getText(),
        executionId,
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
  }

  dispose(): void {
    this.disposables.forEach((disposable) => disposable.dispose());
  }
}
