// The "Running Kernels" view (a TreeView in the explorer): every kernel the kernel host
// runs (`kernel/list`: this window's, other windows', detached ones), with its notebook,
// state, memory and last activity; Shut Down per kernel and Shut Down Idle.

import * as vscode from "vscode";
import { errorMessage, type Bridge } from "./client";
import type { NotebookKernels } from "./kernels";
import { KERNEL_LIST, type ListedKernel } from "./protocol";

export const RUNNING_KERNELS_VIEW = "nbbridge.runningKernels";
/** How often the view asks again while it is visible (memory and activity change). */
const REFRESH_MS = 5000;

class KernelItem extends vscode.TreeItem {
  constructor(readonly kernel: ListedKernel) {
    super(notebookName(kernel), vscode.TreeItemCollapsibleState.None);
    // the same row across refreshes: a pointer on its Shut Down button stays there
    this.id = kernel.kernelId;
    const memory = typeof kernel.memory === "number" ? `${(kernel.memory / (1 << 20)).toFixed(0)} MB` : undefined;
    const active = typeof kernel.lastActivity === "number" ? `active ${ago(kernel.lastActivity)}` : undefined;
    this.description = [kernel.state, memory, active].filter((part) => part !== undefined).join(" · ");
    this.tooltip = new vscode.MarkdownString(
      [
        `**${notebookName(kernel)}** (${kernel.specName})`,
        `state: ${kernel.state}${kernel.busy ? " (busy)" : ""}`,
        `pid: ${kernel.pid ?? "?"}`,
        memory === undefined ? undefined : `memory: ${memory}`,
        active,
        `windows attached: ${kernel.clients ?? "?"}${kernel.here ? " (this one among them)" : ""}`,
      ].filter((line) => line !== undefined).join("  \n"),
    );
    this.iconPath = new vscode.ThemeIcon(kernel.busy ? "circle-filled" : kernel.state === "dead" ? "error" : "circle-outline");
    this.contextValue = "kernel";
  }
}

function notebookName(kernel: ListedKernel): string {
  if (kernel.notebookUri === null) {
    return kernel.specName;
  }
  return decodeURIComponent(kernel.notebookUri.split("/").pop() ?? kernel.notebookUri);
}

function ago(time: number): string {
  // minutes at the finest: a row that changes every refresh would be redrawn under the pointer
  const minutes = Math.floor(Math.max(0, Date.now() - time) / 60_000);
  if (minutes < 1) {
    return "just now";
  }
  return minutes < 60 ? `${minutes} min ago` : `${Math.round(minutes / 60)} h ago`;
}

export class RunningKernels implements vscode.TreeDataProvider<KernelItem>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly view: vscode.TreeView<KernelItem>;
  private timer: NodeJS.Timeout | undefined;
  /** The rows last drawn, and what they showed. */
  private items: KernelItem[] | undefined;
  private shown = "";
  private readonly disposables: vscode.Disposable[];

  constructor(
    private readonly bridge: Bridge,
    private readonly kernels: NotebookKernels,
  ) {
    this.view = vscode.window.createTreeView(RUNNING_KERNELS_VIEW, { treeDataProvider: this });
    this.disposables = [
      this.changed,
      this.view,
      this.view.onDidChangeVisibility(() => this.watch()),
      // kernel/status (a kernel started, went busy or idle, died) changes the list
      kernels.onDidChange(() => this.refresh()),
      vscode.commands.registerCommand("nbbridge.refreshRunningKernels", () => this.refresh()),
      vscode.commands.registerCommand("nbbridge.shutDownKernel", (item?: KernelItem) =>
        item === undefined ? undefined : this.shutDown([item.kernel])),
      vscode.commands.registerCommand("nbbridge.shutDownIdleKernels", () => this.shutDownIdle()),
    ];
    this.watch();
  }

  private watch(): void {
    clearInterval(this.timer);
    this.timer = this.view.visible ? setInterval(() => this.refresh(), REFRESH_MS) : undefined;
    this.refresh();
  }

  /** Asks again; the rows are redrawn only when what they show changed. */
  refresh(): void {
    if (!this.view.visible) {
      return;
    }
    void this.list().then((items) => {
      const shown = JSON.stringify(items.map((item) => [item.id, item.label, item.description, item.iconPath]));
      if (shown !== this.shown) {
        this.shown = shown;
        this.items = items;
        this.changed.fire();
      }
    });
  }

  getTreeItem(item: KernelItem): vscode.TreeItem {
    return item;
  }

  async getChildren(item?: KernelItem): Promise<KernelItem[]> {
    if (item !== undefined) {
      return [];
    }
    return this.items ?? this.list();
  }

  private async list(): Promise<KernelItem[]> {
    try {
      const { kernels } = await this.bridge.request(KERNEL_LIST, {});
      this.view.message = kernels.length === 0 ? "No kernels are running." : undefined;
      return kernels.map((kernel) => new KernelItem(kernel));
    } catch (error) {
      this.view.message = `Could not list the kernels: ${errorMessage(error)}`;
      return [];
    }
  }

  private async shutDownIdle(): Promise<void> {
    const { kernels } = await this.bridge.request(KERNEL_LIST, {});
    const idle = kernels.filter((kernel) => !kernel.busy && kernel.state !== "busy");
    if (idle.length === 0) {
      void vscode.window.showInformationMessage("nbbridge: no kernel is idle");
      return;
    }
    await this.shutDown(idle);
  }

  private async shutDown(kernels: ListedKernel[]): Promise<void> {
    for (const kernel of kernels) {
      try {
        await this.kernels.shutDown(kernel.kernelId);
      } catch (error) {
        void vscode.window.showErrorMessage(`nbbridge: could not shut down ${notebookName(kernel)}: ${errorMessage(error)}`);
      }
    }
    this.refresh();
  }

  dispose(): void {
    clearInterval(this.timer);
    this.disposables.forEach((disposable) => disposable.dispose());
  }
}
