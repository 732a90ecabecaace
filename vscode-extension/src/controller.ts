// One NotebookController per kernelspec the bridge lists, and which one each notebook
// prefers. Running cells is execution.ts's business, the kernels' life kernels.ts's.

import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";
import { errorMessage, type Bridge } from "./client";
import { CellExecutions } from "./execution";
import type { NotebookKernels } from "./kernels";
import { vscodeLanguage } from "./languages";
import { notebookKernelName, notebookLanguage } from "./notebookData";
import { environmentOf, environmentSpecs, groupOf } from "./environments";
import type { JupyterServers } from "./jupyterServers";
import {
  KERNEL_ENVIRONMENTS,
  KERNEL_ENVIRONMENTS_CHANGED,
  KERNEL_SPECS,
  type EnvironmentsResult,
  type SpecsResult,
} from "./protocol";
import { KernelReattach } from "./reattach";
import { NOTEBOOK_TYPE } from "./serializer";

/** VS Code's id of this extension (publisher.name): kernels are named by it. */
const EXTENSION_ID = "nbbridge.nbbridge";
/** How long an attach waits for VS Code to select the kept kernel's controller. */
const SELECTION_WAIT_MS = 10_000;

export class KernelControllers implements vscode.Disposable {
  private readonly controllers = new Map<string, vscode.NotebookController>();
  /** The kernelspec selected for each notebook (by URI), by the user or preselected. */
  private readonly selected = new Map<string, string>();
  /** Notebooks whose preselection is under way: selecting them starts no kernel yet. */
  private readonly preselecting = new Set<string>();
  /** The kernelspec of the kernel the kernel host kept for each notebook (by URI). */
  private readonly attached = new Map<string, string>();
  /** Fires when VS Code has selected a controller for a notebook (URI, kernelspec). */
  private readonly selection = new vscode.EventEmitter<{ key: string; specName: string }>();
  private defaultSpec = "";
  /** The workspace's own Python environment with ipykernel, if it has one. */
  private workspaceSpec: string | undefined;
  private client: LanguageClient | undefined;
  readonly executions: CellExecutions;
  private readonly reattach: KernelReattach;
  private readonly disposables: vscode.Disposable[];

  constructor(
    bridge: Bridge,
    private readonly kernels: NotebookKernels,
    private readonly servers: JupyterServers,
  ) {
    this.executions = new CellExecutions(bridge, kernels, (specName) => this.controllers.get(specName));
    this.reattach = new KernelReattach(
      bridge,
      kernels,
      this.executions,
      (notebook, specName) => this.controllers.get(specName) ?? this.controllers.get(this.preferredSpec(notebook) ?? ""),
      (notebook, specName) => this.adopted(notebook, specName),
    );
    this.disposables = [
      this.selection,
      this.reattach,
      this.executions,
      bridge.onDidStop(() => this.attached.clear()),
      bridge.onDidStart((client) => {
        this.client = client;
        // environments the bridge was still asking about, or a venv made meanwhile
        client.onNotification(KERNEL_ENVIRONMENTS_CHANGED, () => void this.listSpecs(client));
        void this.listSpecs(client);
      }),
      this.watchEnvironments(),
      servers.onDidChange(() => {
        if (this.client !== undefined) {
          void this.listSpecs(this.client);
        }
      }),
      vscode.workspace.onDidOpenNotebookDocument((notebook) => {
        this.setAffinity(notebook);
        if (this.controllers.size > 0) {
          this.reattach.attach(notebook);
        }
      }),
      vscode.workspace.onDidCloseNotebookDocument((notebook) => {
        this.selected.delete(notebook.uri.toString());
        this.attached.delete(notebook.uri.toString());
      }),
      vscode.window.onDidChangeActiveNotebookEditor(() => void this.preselect()),
    ];
  }

  private watchEnvironments(): vscode.Disposable {
    const watcher = vscode.workspace.createFileSystemWatcher("**/{.venv,venv,env}/pyvenv.cfg");
    const relist = (): void => {
      if (this.client !== undefined) {
        void this.listSpecs(this.client);
      }
    };
    watcher.onDidCreate(relist);
    watcher.onDidDelete(relist);
    return vscode.Disposable.from(watcher, vscode.workspace.onDidGrantWorkspaceTrust(relist));
  }

  private async listSpecs(client: LanguageClient): Promise<void> {
    try {
      const result = await client.sendRequest<SpecsResult>(KERNEL_SPECS, {});
      // listing runs each interpreter found, the workspace's .venv among them: only in a
      // trusted workspace
      const found = vscode.workspace.isTrusted
        ? await client.sendRequest<EnvironmentsResult>(KERNEL_ENVIRONMENTS, {}).catch(() => ({ environments: [] }))
        : { environments: [] };
      const remote = await this.servers.specs();
      this.updateControllers({
        ...result,
        specs: [...result.specs, ...environmentSpecs(found.environments), ...remote],
      });
    } catch (error) {
      void vscode.window.showErrorMessage(`nbbridge: could not list kernels: ${errorMessage(error)}`);
    }
  }

  private updateControllers(result: SpecsResult): void {
    this.kernels.setSpecs(result.specs);
    this.defaultSpec = result.default;
    this.workspaceSpec = result.specs.find((spec) => {
      const environment = environmentOf(spec);
      return environment?.group === "workspace" && environment.ipykernel;
    })?.name;
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
        controller.interruptHandler = (notebook) => this.kernels.interrupt(notebook);
        controller.onDidChangeSelectedNotebooks(({ notebook, selected }) => {
          const key = notebook.uri.toString();
          if (!selected) {
            return;
          }
          this.selected.set(key, spec.name);
          this.selection.fire({ key, specName: spec.name });
          // picked by the user: started now, so the first run does not wait; preselected:
          // started by the first run, so opening a notebook starts nothing
          if (!this.preselecting.delete(key)) {
            void this.kernels.select(notebook, spec.name);
          }
        });
        this.controllers.set(spec.name, controller);
      }
      controller.label = spec.displayName;
      controller.detail = groupOf(spec); // the picker shows it: kernelspec, workspace or global environment
      controller.description = spec.argv0;
      controller.supportedLanguages = [vscodeLanguage(spec.language)];
    }
    for (const notebook of vscode.workspace.notebookDocuments) {
      this.setAffinity(notebook);
      // once the kernelspecs are known: a kept kernel is shown with its own controller
      this.reattach.attach(notebook);
    }
    void this.preselect();
  }

  /** The kernel host kept a kernel for the notebook: its controller is the notebook's.
   * Resolves once VS Code has selected it (or after a while: a notebook not in front is
   * selected by VS Code itself, from what it remembers, when it comes to the front). */
  private adopted(notebook: vscode.NotebookDocument, specName: string): Promise<void> {
    const key = notebook.uri.toString();
    this.attached.set(key, specName);
    this.setAffinity(notebook);
    if (this.selected.get(key) === specName) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        listener.dispose();
        resolve();
      };
      const timer = setTimeout(done, SELECTION_WAIT_MS);
      const listener = this.selection.event((selected) => {
        if (selected.key === key && selected.specName === specName) {
          done();
        }
      });
      this.selected.delete(key);
      void this.preselect();
    });
  }

  /** The kernel the notebook last ran with, else the bridge's default, is preselected. */
  private setAffinity(notebook: vscode.NotebookDocument): void {
    if (notebook.notebookType !== NOTEBOOK_TYPE) {
      return;
    }
    const preferred = this.preferredSpec(notebook);
    for (const [name, controller] of this.controllers) {
      controller.updateNotebookAffinity(
        notebook,
        name === preferred ? vscode.NotebookControllerAffinity.Preferred : vscode.NotebookControllerAffinity.Default,
      );
    }
  }

  /** Selects the kernel the active notebook prefers, unless one is selected already.
   * With VS Code's default kernel picker (most recently used), a preferred affinity alone
   * selects nothing: the first run would ask, whatever the notebook's metadata says. */
  private async preselect(): Promise<void> {
    const notebook = vscode.window.activeNotebookEditor?.notebook;
    if (notebook === undefined || notebook.notebookType !== NOTEBOOK_TYPE) {
      return;
    }
    const key = notebook.uri.toString();
    const preferred = this.preferredSpec(notebook);
    const controller = preferred === undefined ? undefined : this.controllers.get(preferred);
    if (controller === undefined || this.selected.has(key) || this.preselecting.has(key)) {
      return;
    }
    this.preselecting.add(key);
    try {
      // the one stable way to select a controller: the command the kernel picker runs
      await vscode.commands.executeCommand("notebook.selectKernel", { id: controller.id, extension: EXTENSION_ID });
    } catch {
      this.preselecting.delete(key); // then the first run asks, as VS Code does by itself
      return;
    }
    if (this.selected.get(key) !== preferred) {
      this.preselecting.delete(key); // it went elsewhere (the editor changed meanwhile)
    }
  }

  /** The kernel the notebook names, else the default; a Python notebook naming only the
   * default (or nothing) runs in the workspace's own environment when it has one with
   * ipykernel, where the project's packages are. */
  private preferredSpec(notebook: vscode.NotebookDocument): string | undefined {
    const kept = this.attached.get(notebook.uri.toString());
    if (kept !== undefined && this.controllers.has(kept)) {
      return kept;
    }
    const wanted = notebookKernelName(notebook.metadata);
    const generic = wanted === undefined || wanted === this.defaultSpec;
    if (generic && this.workspaceSpec !== undefined && notebookLanguage(notebook.metadata) === "python") {
      return this.workspaceSpec;
    }
    const preferred = wanted !== undefined && this.controllers.has(wanted) ? wanted : this.defaultSpec;
    return preferred || undefined;
  }

  private async execute(
    specName: string,
    cells: vscode.NotebookCell[],
    notebook: vscode.NotebookDocument,
  ): Promise<void> {
    // A controller gone since (its kernelspec no longer listed) runs nothing.
    const controller = this.controllers.get(specName);
    if (controller !== undefined) {
      await this.executions.execute(controller, specName, cells, notebook);
    }
  }

  dispose(): void {
    this.controllers.forEach((controller) => controller.dispose());
    this.disposables.forEach((disposable) => disposable.dispose());
  }
}
