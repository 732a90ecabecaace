// One NotebookController per kernelspec the bridge lists. Executions, interrupts, input()
// and kernel state all go through the bridge; this file keeps VS Code's view in step.

import { randomUUID } from "node:crypto";
import * as path from "node:path";
import * as vscode from "vscode";
import { ResponseError, type LanguageClient } from "vscode-languageclient/node";
import { errorMessage, type Bridge } from "./client";
import { notebookKernelName } from "./notebookData";
import { joinText, streamMime, textItem, type NbOutput } from "./outputs";
import {
  KERNEL_EXECUTE,
  KERNEL_INPUT,
  KERNEL_INTERRUPT,
  KERNEL_OUTPUT,
  KERNEL_RESTART,
  KERNEL_SHUTDOWN,
  KERNEL_SPECS,
  KERNEL_START,
  KERNEL_STATUS,
  type InputParams,
  type InputResult,
  type KernelSpec,
  type OutputOp,
  type OutputParams,
  type SpecsResult,
  type StatusParams,
} from "./protocol";
import { cellOutput, NOTEBOOK_TYPE } from "./serializer";

/** One output as shown: the nbformat dict it stands for and the VS Code output showing it. */
interface ShownOutput {
  dict: NbOutput;
  output: vscode.NotebookCellOutput;
}

/** A cell's outputs as the running kernel produced them, keyed by the cell. */
interface CellOutputs {
  cell: vscode.NotebookCell;
  shown: ShownOutput[];
}

interface RunningCell {
  execution: vscode.NotebookCellExecution;
  outputs: CellOutputs;
  started: boolean;
  ended: boolean;
}

interface NotebookKernel {
  kernelId: string;
  spec: KernelSpec;
  displays: Map<string, ShownOutput[]>;
}

const EXECUTION_CANCELLED = -32800;

export class KernelControllers implements vscode.Disposable {
  private readonly controllers = new Map<string, vscode.NotebookController>();
  private specs: KernelSpec[] = [];
  private defaultSpec = "";
  /** The kernel of each notebook (by notebook URI), started on first run. */
  private readonly kernels = new Map<string, Promise<NotebookKernel>>();
  private readonly running = new Map<string, RunningCell>();
  private readonly cellOutputs = new Map<string, CellOutputs>();
  private readonly states = new Map<string, string>();
  private readonly statusBar = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 100);
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly bridge: Bridge) {
    this.disposables.push(
      this.statusBar,
      bridge.onDidStart((client) => void this.attach(client)),
      bridge.onDidStop(() => this.bridgeStopped()),
      vscode.workspace.onDidOpenNotebookDocument((notebook) => this.setAffinity(notebook)),
      vscode.workspace.onDidCloseNotebookDocument((notebook) => void this.closeNotebook(notebook)),
      vscode.window.onDidChangeActiveNotebookEditor(() => this.showStatus()),
    );
  }

  private async attach(client: LanguageClient): Promise<void> {
    client.onNotification(KERNEL_OUTPUT, (params: OutputParams) =>
      this.applyOps(params.executionId, params.ops),
    );
    client.onNotification(KERNEL_STATUS, (params: StatusParams) =>
      this.kernelStatus(params.kernelId, params.state, params.reason),
    );
    client.onRequest(KERNEL_INPUT, (params: InputParams) => this.askInput(params));
    try {
      const result = await client.sendRequest<SpecsResult>(KERNEL_SPECS, {});
      this.updateControllers(result);
    } catch (error) {
      void vscode.window.showErrorMessage(`nbbridge: could not list kernels: ${errorMessage(error)}`);
    }
  }

  private updateControllers(result: SpecsResult): void {
    this.specs = result.specs;
    this.defaultSpec = result.default;
    const names = new Set(result.specs.map((spec) => spec.name));
    for (const [name, controller] of this.controllers) {
      if (!names.has(name)) {
        controller.dispose();
        this.controllers.delete(name);
      }
    }
    for (const spec of result.specs) {
      let controller = this.controllers.get(spec.name);
      if (controller === undefined) {
        controller = vscode.notebooks.createNotebookController(
          `nbbridge-${spec.name}`,
          NOTEBOOK_TYPE,
          spec.displayName,
        );
        controller.supportsExecutionOrder = true;
        controller.executeHandler = (cells, notebook) => this.execute(spec.name, cells, notebook);
        controller.interruptHandler = (notebook) => this.interrupt(notebook);
        controller.onDidChangeSelectedNotebooks(({ notebook, selected }) => {
          if (selected) {
            void this.selectKernel(notebook, spec.name);
          }
        });
        this.controllers.set(spec.name, controller);
      }
      controller.label = spec.displayName;
      controller.description = spec.argv0;
      controller.supportedLanguages = [spec.language.toLowerCase()];
    }
    for (const notebook of vscode.workspace.notebookDocuments) {
      this.setAffinity(notebook);
    }
  }

  /** The kernel the notebook last ran with, else the bridge's default, is preselected. */
  private setAffinity(notebook: vscode.NotebookDocument): void {
    if (notebook.notebookType !== NOTEBOOK_TYPE) {
      return;
    }
    const wanted = notebookKernelName(notebook.metadata);
    const preferred = wanted !== undefined && this.controllers.has(wanted) ? wanted : this.defaultSpec;
    for (const [name, controller] of this.controllers) {
      controller.updateNotebookAffinity(
        notebook,
        name === preferred ? vscode.NotebookControllerAffinity.Preferred : vscode.NotebookControllerAffinity.Default,
      );
    }
  }

  private async selectKernel(notebook: vscode.NotebookDocument, specName: string): Promise<void> {
    const current = this.kernels.get(notebook.uri.toString());
    if (current !== undefined) {
      const kernel = await current.catch(() => undefined);
      if (kernel?.spec.name === specName) {
        return;
      }
      await this.shutdownKernel(notebook);
    }
    // Start it now so the first run does not wait; a failure is reported when a cell runs.
    this.kernelFor(notebook, specName).catch(() => undefined);
  }

  private kernelFor(notebook: vscode.NotebookDocument, specName: string): Promise<NotebookKernel> {
    const key = notebook.uri.toString();
    let kernel = this.kernels.get(key);
    if (kernel === undefined) {
      kernel = this.startKernel(notebook, specName);
      this.kernels.set(key, kernel);
      kernel.catch(() => {
        if (this.kernels.get(key) === kernel) {
          this.kernels.delete(key);
        }
      });
    }
    return kernel;
  }

  private async startKernel(notebook: vscode.NotebookDocument, specName: string): Promise<NotebookKernel> {
    if (!vscode.workspace.isTrusted) {
      // Running a cell runs code: never in a workspace the user has not trusted.
      throw new Error("this workspace is not trusted, so nbbridge starts no kernel here (Manage Workspace Trust)");
    }
    const spec = this.specs.find((candidate) => candidate.name === specName);
    if (spec === undefined) {
      throw new Error(`no kernelspec named ${JSON.stringify(specName)}`);
    }
    const seconds = vscode.workspace.getConfiguration("nbbridge").get<number>("kernelStartTimeout", 60);
    const cwd = notebook.uri.scheme === "file" ? path.dirname(notebook.uri.fsPath) : undefined;
    const cancel = new vscode.CancellationTokenSource();
    const timer = setTimeout(() => cancel.cancel(), seconds * 1000);
    try {
      const started = await this.bridge.request(
        KERNEL_START,
        { kernelName: specName, notebookUri: notebook.uri.toString(), cwd },
        cancel.token,
      );
      const kernel: NotebookKernel = { kernelId: started.kernelId, spec, displays: new Map() };
      this.startedKernels.set(notebook.uri.toString(), kernel);
      this.showStatus();
      return kernel;
    } catch (error) {
      if (cancel.token.isCancellationRequested) {
        throw new Error(`${spec.displayName} did not start within ${seconds} s (setting nbbridge.kernelStartTimeout)`);
      }
      throw error;
    } finally {
      clearTimeout(timer);
      cancel.dispose();
    }
  }

  private async execute(
    specName: string,
    cells: vscode.NotebookCell[],
    notebook: vscode.NotebookDocument,
  ): Promise<void> {
    const controller = this.controllers.get(specName);
    if (controller === undefined) {
      return;
    }
    const runs = cells.map((cell) => this.createRun(controller, cell));
    let kernel: NotebookKernel;
    try {
      kernel = await this.kernelFor(notebook, specName);
      if (kernel.spec.name !== specName) {
        await this.shutdownKernel(notebook);
        kernel = await this.kernelFor(notebook, specName);
      }
      if (this.states.get(kernel.kernelId) === "dead") {
        await this.bridge.request(KERNEL_RESTART, { kernelId: kernel.kernelId });
      }
    } catch (error) {
      const message = `The kernel could not start: ${errorMessage(error)}`;
      void vscode.window.showErrorMessage(`nbbridge: ${message}`);
      const [first, ...rest] = runs;
      if (first !== undefined) {
        this.begin(first);
        this.append(first, { output_type: "error", ename: "KernelStartError", evalue: message, traceback: [message] });
        this.finish(first, false);
      }
      rest.forEach((run) => this.finish(run, undefined));
      return;
    }
    // The bridge queues executions per kernel in order (and aborts those behind an error), so
    // every cell is sent at once; each is shown as started when the one before it is done.
    const done = runs.map((run) => this.send(kernel, run));
    this.begin(runs[0]);
    for (let index = 0; index < runs.length; index++) {
      await done[index];
      const next = runs[index + 1];
      if (next !== undefined && !next.ended) {
        this.begin(next);
      }
    }
  }

  private createRun(controller: vscode.NotebookController, cell: vscode.NotebookCell): RunningCell {
    const execution = controller.createNotebookCellExecution(cell);
    const run: RunningCell = { execution, outputs: { cell, shown: [] }, started: false, ended: false };
    execution.token.onCancellationRequested(() => {
      if (run.started && !run.ended) {
        void this.interrupt(cell.notebook);
      }
      this.finish(run, undefined);
    });
    return run;
  }

  private async send(kernel: NotebookKernel, run: RunningCell): Promise<void> {
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
      if (result.status === "aborted") {
        this.finish(run, undefined);
        return;
      }
      this.begin(run);
      run.execution.executionOrder = result.executionCount ?? undefined;
      this.finish(run, result.status === "ok", result.endedAt ?? undefined);
    } catch (error) {
      this.begin(run);
      const message = errorMessage(error);
      this.append(run, { output_type: "error", ename: "BridgeError", evalue: message, traceback: [message] });
      this.finish(run, false);
    } finally {
      this.running.delete(executionId);
    }
  }

  /** Shown as running from now; its old outputs go when it starts. */
  private begin(run: RunningCell | undefined): void {
    if (run === undefined || run.started || run.ended) {
      return;
    }
    run.started = true;
    run.execution.start(Date.now());
    void run.execution.clearOutput();
    this.cellOutputs.set(run.execution.cell.document.uri.toString(), run.outputs);
  }

  private finish(run: RunningCell, success: boolean | undefined, endTime?: number): void {
    if (run.ended) {
      return;
    }
    run.ended = true;
    run.execution.end(success, run.started ? (endTime ?? Date.now()) : undefined);
  }

  private append(run: RunningCell, dict: NbOutput): ShownOutput {
    const shown = { dict, output: cellOutput(dict) };
    run.outputs.shown.push(shown);
    void run.execution.appendOutput(shown.output);
    return shown;
  }

  private applyOps(executionId: string, ops: OutputOp[]): void {
    const run = this.running.get(executionId);
    if (run === undefined || run.ended) {
      return;
    }
    this.begin(run);
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

  private kernelOfRun(run: RunningCell): NotebookKernel | undefined {
    // Only read synchronously: the kernel of a running cell's notebook has started already.
    return this.startedKernels.get(run.execution.cell.notebook.uri.toString());
  }

  private readonly startedKernels = new Map<string, NotebookKernel>();

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
      const controller = this.controllers.get(kernel?.spec.name ?? "");
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

  private kernelStatus(kernelId: string, state: string, reason?: string): void {
    this.states.set(kernelId, state);
    this.showStatus();
    if (state === "dead") {
      const kernel = [...this.startedKernels.values()].find((candidate) => candidate.kernelId === kernelId);
      void vscode.window.showWarningMessage(
        `nbbridge: the kernel ${kernel?.spec.displayName ?? kernelId} died${reason ? `: ${reason}` : ""}. ` +
          "It restarts when you run a cell.",
      );
    }
  }

  private showStatus(): void {
    const notebook = vscode.window.activeNotebookEditor?.notebook;
    const kernel = notebook ? this.startedKernels.get(notebook.uri.toString()) : undefined;
    if (kernel === undefined) {
      this.statusBar.hide();
      return;
    }
    const state = this.states.get(kernel.kernelId) ?? "starting";
    const icon = state === "busy" ? "$(circle-filled)" : state === "dead" ? "$(error)" : "$(circle-outline)";
    this.statusBar.text = `${icon} ${kernel.spec.displayName}: ${state}`;
    this.statusBar.tooltip = `nbbridge kernel ${kernel.kernelId} is ${state}`;
    this.statusBar.show();
  }

  private async askInput(params: InputParams): Promise<InputResult> {
    const value = await vscode.window.showInputBox({
      title: "The kernel asks for input",
      prompt: params.prompt || "input()",
      placeHolder: params.prompt || undefined,
      password: params.password,
      ignoreFocusOut: true,
    });
    if (value === undefined) {
      return Promise.reject(new ResponseError(EXECUTION_CANCELLED, "input cancelled by the user"));
    }
    return { value };
  }

  /** The kernel of the notebook, if one was started for it. */
  async kernelOf(notebook: vscode.NotebookDocument): Promise<NotebookKernel | undefined> {
    return this.kernels.get(notebook.uri.toString())?.catch(() => undefined);
  }

  async interrupt(notebook: vscode.NotebookDocument): Promise<void> {
    const kernel = await this.kernelOf(notebook);
    if (kernel !== undefined) {
      await this.bridge.request(KERNEL_INTERRUPT, { kernelId: kernel.kernelId });
    }
  }

  async restart(notebook: vscode.NotebookDocument): Promise<void> {
    const kernel = await this.kernelOf(notebook);
    if (kernel === undefined) {
      return;
    }
    await this.bridge.request(KERNEL_RESTART, { kernelId: kernel.kernelId });
    kernel.displays.clear();
  }

  private async shutdownKernel(notebook: vscode.NotebookDocument): Promise<void> {
    const key = notebook.uri.toString();
    const kernel = await this.kernelOf(notebook);
    this.kernels.delete(key);
    this.startedKernels.delete(key);
    if (kernel !== undefined) {
      await this.bridge.request(KERNEL_SHUTDOWN, { kernelId: kernel.kernelId }).catch(() => undefined);
    }
    this.showStatus();
  }

  private async closeNotebook(notebook: vscode.NotebookDocument): Promise<void> {
    for (const cell of notebook.getCells()) {
      this.cellOutputs.delete(cell.document.uri.toString());
    }
    await this.shutdownKernel(notebook);
  }

  /** Everything the bridge held is gone: no cell may stay running or pending. */
  private bridgeStopped(): void {
    for (const run of this.running.values()) {
      this.begin(run);
      this.append(run, {
        output_type: "error",
        ename: "BridgeStopped",
        evalue: "the nbbridge process stopped while this cell ran",
        traceback: ["the nbbridge process stopped while this cell ran"],
      });
      this.finish(run, false);
    }
    this.running.clear();
    this.kernels.clear();
    this.startedKernels.clear();
    this.states.clear();
    this.showStatus();
  }

  dispose(): void {
    this.controllers.forEach((controller) => controller.dispose());
    this.disposables.forEach((disposable) => disposable.dispose());
  }
}
