// Each notebook's kernel on the bridge: started when it is picked or a cell first runs,
// restarted if it died, interrupted, shut down when the notebook closes or another kernel
// is picked; and the state `kernel/status` last gave for each kernel.

import * as path from "node:path";
import * as vscode from "vscode";
import { adoptLanguage } from "./cellLanguage";
import type { Bridge } from "./client";
import type { ShownOutput } from "./execution";
import { environmentOf } from "./environments";
import { remoteOf } from "./remoteSpecs";
import { installIpykernel } from "./ipykernelInstall";
import { languageInfoLanguage, vscodeLanguage } from "./languages";
import {
  KERNEL_INTERRUPT,
  KERNEL_RESTART,
  KERNEL_SHUTDOWN,
  KERNEL_START,
  KERNEL_STATUS,
  type KernelSpec,
  type KernelState,
  type StartResult,
  type StatusParams,
} from "./protocol";

/** As the bridge's own default for a server's kernel (remoteKernelStartTimeout). */
const REMOTE_START_SECONDS = 120;

/** A notebook's kernel once the bridge started it. */
export interface StartedKernel {
  readonly kernelId: string;
  readonly spec: KernelSpec;
  /** The outputs shown with each Jupyter display id, in any cell, for `replace` ops. */
  readonly displays: Map<string, ShownOutput[]>;
}

/** One notebook's kernel, starting and then started: one object, so that what awaits the
 * start and what must read it at once (status bar, output ops) cannot disagree. */
class NotebookKernel {
  started: StartedKernel | undefined;
  readonly starting: Promise<StartedKernel>;

  constructor(starting: Promise<StartedKernel>, onStarted: () => void) {
    this.starting = starting.then((kernel) => {
      this.started = kernel;
      onStarted();
      return kernel;
    });
  }
}

export class NotebookKernels implements vscode.Disposable {
  /** The kernelspecs the bridge listed (the controllers list them, one controller each). */
  private specs: readonly KernelSpec[] = [];
  /** By notebook URI. */
  private readonly notebooks = new Map<string, NotebookKernel>();
  /** By kernelId: a status may come before the `kernel/start` answer that names the kernel. */
  private readonly states = new Map<string, KernelState>();
  /** By notebook URI: the `kernel/attach` under way; nothing starts a kernel before it ends. */
  private readonly attaching = new Map<string, Promise<unknown>>();
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when a kernel started or went, or its state changed. */
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly bridge: Bridge) {
    this.disposables = [
      this.changed,
      bridge.onDidStart((client) => {
        client.onNotification(KERNEL_STATUS, (params: StatusParams) =>
          this.status(params.kernelId, params.state, params.reason),
        );
      }),
      bridge.onDidStop(() => this.bridgeStopped()),
      vscode.workspace.onDidCloseNotebookDocument((notebook) => void this.shutdown(notebook)),
    ];
  }

  setSpecs(specs: readonly KernelSpec[]): void {
    this.specs = specs;
  }

  /** The kernel of the notebook, if one was started for it. */
  async kernelOf(notebook: vscode.NotebookDocument): Promise<StartedKernel | undefined> {
    return this.notebooks.get(notebook.uri.toString())?.starting.catch(() => undefined);
  }

  /** The notebook's kernel if it has started, for what cannot wait. */
  started(notebook: vscode.NotebookDocument): StartedKernel | undefined {
    return this.notebooks.get(notebook.uri.toString())?.started;
  }

  /** The open notebook whose kernel this is, if it has started. */
  notebookOf(kernelId: string): vscode.NotebookDocument | undefined {
    return vscode.workspace.notebookDocuments.find((notebook) => this.started(notebook)?.kernelId === kernelId);
  }

  /** No kernel starts for the notebook until `attach` (the kernel host's answer) is done. */
  attachFirst(notebook: vscode.NotebookDocument, attach: Promise<unknown>): void {
    const key = notebook.uri.toString();
    const settled = attach.catch(() => undefined);
    this.attaching.set(key, settled);
    void settled.then(() => {
      if (this.attaching.get(key) === settled) {
        this.attaching.delete(key);
      }
    });
  }

  /** A kernel the kernel host kept for the notebook (`kernel/attach`) is its kernel now. */
  adopt(notebook: vscode.NotebookDocument, started: StartResult, spec: KernelSpec): StartedKernel {
    const kernel: StartedKernel = { kernelId: started.kernelId, spec, displays: new Map() };
    this.states.set(kernel.kernelId, started.state);
    const adopted = new NotebookKernel(Promise.resolve(kernel), () => this.changed.fire());
    adopted.started = kernel; // its runs are shown at once, before the promise settles
    this.notebooks.set(notebook.uri.toString(), adopted);
    return kernel;
  }

  /** Who says which kernelspec a kernel the host kept was started from. */
  specNamed(name: string): KernelSpec | undefined {
    return this.specs.find((spec) => spec.name === name);
  }

  stateOf(kernelId: string): KernelState | undefined {
    return this.states.get(kernelId);
  }

  /** The kernel was picked for the notebook: started now, so the first run does not wait. */
  async select(notebook: vscode.NotebookDocument, specName: string): Promise<void> {
    const attaching = this.attaching.get(notebook.uri.toString());
    await attaching;
    const current = this.notebooks.get(notebook.uri.toString());
    if (current !== undefined && attaching !== undefined) {
      return; // the editor restoring its last pick on reopening: the kept kernel stays
    }
    if (current !== undefined) {
      const kernel = await current.starting.catch(() => undefined);
      if (kernel?.spec.name === specName) {
        return;
      }
      await this.shutdown(notebook);
    }
    // A failure is reported when a cell runs.
    this.kernelFor(notebook, specName).catch(() => undefined);
  }

  /** The notebook's kernel of that kernelspec, ready to run: started (in place of another
   * kernelspec's), or restarted if it died. */
  async ready(notebook: vscode.NotebookDocument, specName: string): Promise<StartedKernel> {
    await this.attaching.get(notebook.uri.toString());
    let kernel = await this.kernelFor(notebook, specName);
    if (kernel.spec.name !== specName) {
      await this.shutdown(notebook);
      kernel = await this.kernelFor(notebook, specName);
    }
    if (this.states.get(kernel.kernelId) === "dead") {
      await this.bridge.request(KERNEL_RESTART, { kernelId: kernel.kernelId });
    }
    return kernel;
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

  private kernelFor(notebook: vscode.NotebookDocument, specName: string): Promise<StartedKernel> {
    const key = notebook.uri.toString();
    let kernel = this.notebooks.get(key);
    if (kernel === undefined) {
      const created = new NotebookKernel(this.start(notebook, specName), () => this.changed.fire());
      this.notebooks.set(key, created);
      created.starting.catch(() => {
        if (this.notebooks.get(key) === created) {
          this.notebooks.delete(key);
        }
      });
      kernel = created;
    }
    return kernel.starting;
  }

  private async start(notebook: vscode.NotebookDocument, specName: string): Promise<StartedKernel> {
    if (!vscode.workspace.isTrusted) {
      // Running a cell runs code: never in a workspace the user has not trusted.
      throw new Error("this workspace is not trusted, so nbbridge starts no kernel here (Manage Workspace Trust)");
    }
    const spec = this.specs.find((candidate) => candidate.name === specName);
    if (spec === undefined) {
      throw new Error(`no kernelspec named ${JSON.stringify(specName)}`);
    }
    const environment = environmentOf(spec);
    if (environment !== undefined && !environment.ipykernel) {
      await installIpykernel(this.bridge, environment);
    }
    const remote = remoteOf(spec);
    // a server's kernel may take the bridge's remote start timeout (a gateway's cluster is slow)
    const seconds =
      remote !== undefined
        ? REMOTE_START_SECONDS
        : vscode.workspace.getConfiguration("nbbridge").get<number>("kernelStartTimeout", 60);
    const cwd = notebook.uri.scheme === "file" ? path.dirname(notebook.uri.fsPath) : undefined;
    const where =
      remote !== undefined
        ? { serverId: remote.serverId, kernelName: remote.kernelName }
        : environment === undefined
          ? { kernelName: specName, cwd }
          : { environment: environment.python, cwd };
    const cancel = new vscode.CancellationTokenSource();
    const timer = setTimeout(() => cancel.cancel(), seconds * 1000);
    try {
      const started = await this.bridge.request(
        KERNEL_START,
        { ...where, notebookUri: notebook.uri.toString() },
        cancel.token,
      );
      // what the kernel says it speaks, else what its kernelspec says
      const language = languageInfoLanguage(started.languageInfo) ?? vscodeLanguage(spec.language);
      await adoptLanguage(notebook, language).catch(() => undefined);
      return { kernelId: started.kernelId, spec, displays: new Map() };
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

  private status(kernelId: string, state: KernelState, reason?: string): void {
    this.states.set(kernelId, state);
    this.changed.fire();
    if (state === "dead" && reason !== "shut down") {
      const kernel = [...this.notebooks.values()].find((candidate) => candidate.started?.kernelId === kernelId);
      void vscode.window.showWarningMessage(
        `nbbridge: the kernel ${kernel?.started?.spec.displayName ?? kernelId} died${reason ? `: ${reason}` : ""}. ` +
          "It restarts when you run a cell.",
      );
    }
  }

  /** Shuts down any kernel of the kernel host (the Running Kernels view): a notebook of
   * this window whose kernel it is starts a new one on its next run. */
  async shutDown(kernelId: string): Promise<void> {
    const notebook = this.notebookOf(kernelId);
    if (notebook !== undefined) {
      this.notebooks.delete(notebook.uri.toString());
      this.changed.fire();
    }
    await this.bridge.request(KERNEL_SHUTDOWN, { kernelId });
  }

  private async shutdown(notebook: vscode.NotebookDocument): Promise<void> {
    const kernel = await this.kernelOf(notebook);
    this.notebooks.delete(notebook.uri.toString());
    if (kernel !== undefined) {
      await this.bridge.request(KERNEL_SHUTDOWN, { kernelId: kernel.kernelId }).catch(() => undefined);
    }
    this.changed.fire();
  }

  /** Everything the bridge held is gone. */
  private bridgeStopped(): void {
    this.notebooks.clear();
    this.states.clear();
    this.changed.fire();
  }

  dispose(): void {
    this.disposables.forEach((disposable) => disposable.dispose());
  }
}
