// The extension host's side of the widget renderer's messaging: comm messages between the
// renderer in each notebook's webview and the notebook's kernel on the bridge.

import { randomUUID } from "node:crypto";
import * as vscode from "vscode";
import type { Bridge } from "./client";
import type { CellExecutions } from "./execution";
import type { NotebookKernels } from "./kernels";
import { KERNEL_COMM, KERNEL_SEND_COMM, KERNEL_WIDGET_STATE, type CommParams, type WidgetState } from "./protocol";
import {
  WIDGET_RENDERER_ID,
  WIDGET_STATE_MIME,
  WIDGET_VIEW_MIME,
  type FromRenderer,
  type SendRequest,
  type StateRequest,
  type ToRenderer,
} from "./renderer/messages";

/** The notebook's saved widget state (metadata.widgets), shown when no kernel holds the models. */
export function savedWidgetState(notebook: vscode.NotebookDocument): WidgetState | undefined {
  const metadata = notebook.metadata.metadata as Record<string, unknown> | undefined;
  const widgets = metadata?.widgets as Record<string, unknown> | undefined;
  const state = widgets?.[WIDGET_STATE_MIME] as WidgetState | undefined;
  return typeof state === "object" && state !== null && typeof state.state === "object" ? state : undefined;
}

const decoder = new TextDecoder();

/** The cell with an output showing a view of the model. */
function cellShowing(notebook: vscode.NotebookDocument, modelId: string): vscode.NotebookCell | undefined {
  return notebook.getCells().find((cell) =>
    cell.outputs.some((output) =>
      output.items.some((item) => {
        if (item.mime !== WIDGET_VIEW_MIME) {
          return false;
        }
        try {
          return (JSON.parse(decoder.decode(item.data)) as { model_id?: string }).model_id === modelId;
        } catch {
          return false;
        }
      }),
    ),
  );
}

export class WidgetMessaging implements vscode.Disposable {
  private readonly messaging = vscode.notebooks.createRendererMessaging(WIDGET_RENDERER_ID);
  private readonly disposables: vscode.Disposable[];

  constructor(
    private readonly bridge: Bridge,
    private readonly kernels: NotebookKernels,
    private readonly executions: CellExecutions,
  ) {
    this.disposables = [
      this.messaging.onDidReceiveMessage(({ editor, message }) => void this.fromRenderer(editor, message as FromRenderer)),
      bridge.onDidStart((client) => {
        client.onNotification(KERNEL_COMM, (params: CommParams) => this.fromKernel(params));
      }),
    ];
  }

  private post(editor: vscode.NotebookEditor, message: ToRenderer): void {
    void this.messaging.postMessage(message, editor);
  }

  /** To the webview of every editor showing a notebook of that kernel. */
  private fromKernel(params: CommParams): void {
    for (const editor of vscode.window.visibleNotebookEditors) {
      if (this.kernels.started(editor.notebook)?.kernelId === params.kernelId) {
        const { msgType, parentMsgId, content, metadata, buffers } = params;
        this.post(editor, { type: "comm", msgType, parentMsgId, content, metadata, buffers });
      }
    }
  }

  private async fromRenderer(editor: vscode.NotebookEditor, message: FromRenderer): Promise<void> {
    if (message.type === "state") {
      await this.answerState(editor, message);
    } else if (message.type === "send") {
      await this.send(editor, message);
    }
  }

  private async answerState(editor: vscode.NotebookEditor, request: StateRequest): Promise<void> {
    const kernel = this.kernels.started(editor.notebook);
    const live = kernel !== undefined && this.kernels.stateOf(kernel.kernelId) !== "dead";
    let state: WidgetState | undefined;
    if (live) {
      state = await this.bridge.request(KERNEL_WIDGET_STATE, { kernelId: kernel.kernelId }).catch(() => undefined);
    }
    // a model the kernel no longer has (it restarted) is still drawn as saved
    const saved = savedWidgetState(editor.notebook);
    if (saved !== undefined) {
      state = { ...saved, ...state, state: { ...saved.state, ...(state?.state ?? {}) } };
    }
    this.post(editor, { type: "state", requestId: request.requestId, state, live });
  }

  private async send(editor: vscode.NotebookEditor, request: SendRequest): Promise<void> {
    const kernel = this.kernels.started(editor.notebook);
    const cell = request.viewModelId === undefined ? undefined : cellShowing(editor.notebook, request.viewModelId);
    const executionId = randomUUID();
    const routing = cell === undefined ? undefined : this.executions.outputsToCell(executionId, cell);
    try {
      if (kernel !== undefined) {
        await this.bridge.request(KERNEL_SEND_COMM, {
          kernelId: kernel.kernelId,
          msgType: request.msgType,
          content: request.content,
          buffers: request.buffers,
          msgId: request.msgId,
          executionId,
        });
      }
    } catch {
      // the kernel is gone: the widget stays as it is
    } finally {
      routing?.dispose();
      this.post(editor, { type: "idle", msgId: request.msgId });
    }
  }

  dispose(): void {
    this.disposables.forEach((disposable) => disposable.dispose());
  }
}
