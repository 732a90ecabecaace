// A Jupyter comm as @jupyter-widgets expects it (IClassicComm), whose messages travel to
// the kernel through the extension host and the bridge.

import type { IClassicComm, ICallbacks } from "@jupyter-widgets/base";
import type { CommContent, CommMsgType } from "../protocol";
import type { CommMessage, SendRequest } from "./messages";

type Buffers = ArrayBuffer[] | ArrayBufferView[] | undefined;
type JsonObject = Record<string, unknown>;

/** What a model's comm_msg handler gets: a Jupyter message as the kernel sent it. */
export interface IncomingMessage {
  header: { msg_type: string; msg_id: string };
  parent_header: { msg_id?: string };
  content: CommContent;
  metadata: JsonObject;
  buffers: DataView[];
}

export function toBase64(buffer: ArrayBuffer | ArrayBufferView): string {
  const bytes =
    buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  let binary = "";
  for (let start = 0; start < bytes.length; start += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(start, start + 0x8000));
  }
  return btoa(binary);
}

export function fromBase64(text: string): DataView {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) {
    bytes[index] = binary.charCodeAt(index);
  }
  return new DataView(bytes.buffer);
}

export function incoming(message: CommMessage): IncomingMessage {
  return {
    header: { msg_type: message.msgType, msg_id: "" },
    parent_header: message.parentMsgId === null ? {} : { msg_id: message.parentMsgId },
    content: message.content,
    metadata: message.metadata,
    buffers: message.buffers.map(fromBase64),
  };
}

export class ProxyComm implements IClassicComm {
  private onMessage: ((msg: IncomingMessage) => void) | undefined;
  private onClosed: ((msg: IncomingMessage) => void) | undefined;
  private readonly waiting = new Map<string, ICallbacks>();
  closed = false;

  constructor(
    readonly comm_id: string,
    readonly target_name: string,
    private readonly post: (request: SendRequest) => void,
    private readonly viewOf: (commId: string) => string | undefined,
  ) {}

  open(data: unknown, callbacks?: ICallbacks, metadata?: JsonObject, buffers?: Buffers): string {
    return this.sendAs("comm_open", { comm_id: this.comm_id, target_name: this.target_name, data: data as JsonObject }, callbacks, metadata, buffers);
  }

  send(data: unknown, callbacks?: ICallbacks, metadata?: JsonObject, buffers?: Buffers): string {
    return this.sendAs("comm_msg", { comm_id: this.comm_id, data: data as JsonObject }, callbacks, metadata, buffers);
  }

  close(data?: unknown, callbacks?: ICallbacks, metadata?: JsonObject, buffers?: Buffers): string {
    const msgId = this.sendAs("comm_close", { comm_id: this.comm_id, data: (data ?? {}) as JsonObject }, callbacks, metadata, buffers);
    this.closed = true;
    return msgId;
  }

  on_msg(callback: (msg: IncomingMessage) => void): void {
    this.onMessage = callback;
  }

  on_close(callback: (msg: IncomingMessage) => void): void {
    this.onClosed = callback;
  }

  /** A message of this comm from the kernel. */
  receive(message: CommMessage): void {
    const msg = incoming(message);
    if (message.msgType === "comm_close") {
      this.closed = true;
      this.onClosed?.(msg);
    } else if (message.msgType === "comm_msg") {
      this.onMessage?.(msg);
    }
  }

  /** The kernel has handled `msgId`: the model's throttle lets the next update go. */
  idle(msgId: string): boolean {
    const callbacks = this.waiting.get(msgId);
    if (callbacks === undefined) {
      return false;
    }
    this.waiting.delete(msgId);
    const status = callbacks.iopub?.status as ((msg: unknown) => void) | undefined;
    status?.({ header: { msg_type: "status" }, content: { execution_state: "idle" } });
    return true;
  }

  private sendAs(msgType: CommMsgType, content: CommContent, callbacks: ICallbacks | undefined, _metadata: JsonObject | undefined, buffers: Buffers): string {
    const msgId = crypto.randomUUID();
    if (callbacks !== undefined) {
      this.waiting.set(msgId, callbacks);
    }
    const sent: SendRequest = {
      type: "send",
      msgId,
      viewModelId: this.viewOf(this.comm_id),
      msgType,
      content,
      buffers: (buffers ?? []).map((buffer: ArrayBuffer | ArrayBufferView) => toBase64(buffer)),
    };
    this.post(sent);
    return msgId;
  }
}
