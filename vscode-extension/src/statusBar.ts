// The status bar item: the active notebook's kernel and its state (idle, busy, dead).

import * as vscode from "vscode";
import type { NotebookKernels } from "./kernels";

export class KernelStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 100);
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly kernels: NotebookKernels) {
    this.disposables = [
      this.item,
      kernels.onDidChange(() => this.show()),
      vscode.window.onDidChangeActiveNotebookEditor(() => this.show()),
    ];
  }

  private show(): void {
    const notebook = vscode.window.activeNotebookEditor?.notebook;
    const kernel = notebook ? this.kernels.started(notebook) : undefined;
    if (kernel === undefined) {
      this.item.hide();
      return;
    }
    const state = this.kernels.stateOf(kernel.kernelId) ?? "starting";
    const icon =
      state === "busy"
        ? "$(circle-filled)"
        : state === "dead"
          ? "$(error)"
          : state === "disconnected" || state === "reconnecting"
            ? "$(debug-disconnect)"
            : "$(circle-outline)";
    this.item.text = `${icon} ${kernel.spec.displayName}: ${state}`;
    this.item.tooltip = `nbbridge kernel ${kernel.kernelId} is ${state}`;
    this.item.show();
  }

  dispose(): void {
    this.disposables.forEach((disposable) => disposable.dispose());
  }
}
