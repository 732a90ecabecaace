// What the widget renderer (in the notebook's webview) and the extension host say to each
// other over the renderer messaging channel. Pure: imported by both sides.

import type { CommContent, CommMsgType, WidgetState } from "../protocol";

export const WIDGET_RENDERER_ID = "nbbridge-widgets";
export const WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json";
export const WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json";

/** The renderer asks for the models it lacks (a view of an unknown model id). */
export interface StateRequest {
  type: "state";
  requestId: number;
}

/** A comm message a widget model sends; `viewModelId` names the model of the output it
 * belongs to (the one shown, or the one shown last). */
export interface SendRequest {
  type: "send";
  msgId: string;
  viewModelId: string | undefined;
  msgType: CommMsgType;
  content: CommContent;
  /** base64 */
  buffers: string[];
}

export type FromRenderer = StateRequest | SendRequest;

/** The widget models: the live kernel's (with comms) or, without one, the notebook's saved ones. */
export interface StateReply {
  type: "state";
  requestId: number;
  state: WidgetState | undefined;
  live: boolean;
}

/** A comm message from the kernel. */
export interface CommMessage {
  type: "comm";
  msgType: CommMsgType;
  parentMsgId: string | null;
  content: CommContent;
  metadata: Record<string, unknown>;
  buffers: string[];
}

/** The kernel has handled the renderer's message `msgId` (or never will). */
export interface IdleMessage {
  type: "idle";
  msgId: string;
}

export type ToRenderer = StateReply | CommMessage | IdleMessage;
