// The widget manager of one notebook webview: @jupyter-widgets/html-manager's, with comms
// that reach the kernel through the extension host, and models made from the state the
// host sends (the live kernel's, or the notebook's saved metadata.widgets).

import type { DOMWidgetView, WidgetModel } from "@jupyter-widgets/base";
import { put_buffers } from "@jupyter-widgets/base";
// the manager alone: the package's index also brings the CDN loader of embed scripts
import { HTMLManager } from "@jupyter-widgets/html-manager/lib/htmlmanager";
import type { WidgetState } from "../protocol";
import { fromBase64, incoming, ProxyComm } from "./comm";
import type { CommMessage, FromRenderer, SendRequest, StateReply } from "./messages";

const WIDGET_TARGET = "jupyter.widget";

interface SavedModel {
  model_name: string;
  model_module: string;
  model_module_version: string;
  state: Record<string, unknown>;
  buffers?: { path: (string | number)[]; data: string; encoding: string }[];
}

export class BridgeWidgetManager extends HTMLManager {
  private readonly comms = new Map<string, ProxyComm>();
  /** Models shown as outputs; a message's outputs go to the cell showing its model, else
   * to the one that showed a widget last (a slider inside a box). */
  private readonly shownModels = new Set<string>();
  private lastShown: string | undefined;
  private readonly pendingState = new Map<number, (reply: StateReply) => void>();
  private nextRequest = 1;

  constructor(private readonly post: (message: FromRenderer) => void) {
    super();
  }

  /** Show the view of `modelId` in `element`. */
  async show(modelId: string, element: HTMLElement): Promise<void> {
    this.shownModels.add(modelId);
    this.lastShown = modelId;
    if (!this.has_model(modelId)) {
      await this.restore(await this.requestState());
    }
    if (!this.has_model(modelId)) {
      throw new Error(`no widget model ${modelId}: the kernel that made it is gone and the notebook did not save its state`);
    }
    const model = await this.get_model(modelId);
    const view = await this.create_view<DOMWidgetView>(model as Parameters<HTMLManager["create_view"]>[0] as never);
    await this.display_view(view, element);
  }

  /** A message from the extension host. */
  receive(message: CommMessage | StateReply | { type: "idle"; msgId: string }): void {
    switch (message.type) {
      case "state":
        this.pendingState.get(message.requestId)?.(message);
        this.pendingState.delete(message.requestId);
        break;
      case "idle":
        for (const comm of this.comms.values()) {
          if (comm.idle(message.msgId)) {
            break;
          }
        }
        break;
      case "comm":
        this.receiveComm(message);
        break;
    }
  }

  private receiveComm(message: CommMessage): void {
    const commId = message.content.comm_id;
    if (message.msgType === "comm_open") {
      if (message.content.target_name !== WIDGET_TARGET || this.has_model(commId)) {
        return;
      }
      const comm = this.proxy(commId, WIDGET_TARGET);
      void this.handle_comm_open(comm as never, incoming(message) as never);
      return;
    }
    this.comms.get(commId)?.receive(message);
    if (message.msgType === "comm_close") {
      this.comms.delete(commId);
    }
  }

  private proxy(commId: string, target: string): ProxyComm {
    const comm = new ProxyComm(
      commId,
      target,
      (request: SendRequest) => this.post(request),
      (id) => (this.shownModels.has(id) ? id : this.lastShown),
    );
    this.comms.set(commId, comm);
    return comm;
  }

  private requestState(): Promise<StateReply> {
    const requestId = this.nextRequest++;
    return new Promise((resolve) => {
      this.pendingState.set(requestId, resolve);
      this.post({ type: "state", requestId });
    });
  }

  /** Models for every entry of the state not known yet: live ones with a comm. */
  private async restore(reply: StateReply): Promise<void> {
    const state: WidgetState | undefined = reply.state;
    if (state === undefined) {
      return;
    }
    const made: Promise<WidgetModel>[] = [];
    // new_model registers each model before its first await: references between the
    // models resolve whatever their order
    for (const [modelId, entry] of Object.entries(state.state as Record<string, SavedModel>)) {
      if (this.has_model(modelId)) {
        continue;
      }
      const modelState = { ...entry.state };
      const buffers = entry.buffers ?? [];
      put_buffers(
        modelState as never,
        buffers.map((buffer) => buffer.path),
        buffers.map((buffer) => fromBase64(buffer.data)),
      );
      made.push(
        this.new_model(
          {
            model_id: modelId,
            model_name: entry.model_name,
            model_module: entry.model_module,
            model_module_version: entry.model_module_version,
            comm: reply.live ? (this.proxy(modelId, WIDGET_TARGET) as never) : undefined,
          },
          modelState,
        ),
      );
    }
    await Promise.allSettled(made);
  }
}
