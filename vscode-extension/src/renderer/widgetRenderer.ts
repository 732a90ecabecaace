// The notebook renderer of application/vnd.jupyter.widget-view+json (VS Code's stable
// renderer API, with messaging): one widget manager per notebook webview.

import type { ActivationFunction, OutputItem, RendererContext } from "vscode-notebook-renderer";
import { BridgeWidgetManager } from "./manager";
import type { FromRenderer, ToRenderer } from "./messages";
import { themeStyle } from "./theme";

interface WidgetView {
  model_id: string;
  version_major?: number;
}

/** The widget packages' CSS, bundled into this script by esbuild.mjs. */
declare const WIDGET_CSS: string;

function addStylesheet(): void {
  for (const text of [WIDGET_CSS, themeStyle]) {
    const style = document.createElement("style");
    style.textContent = text;
    document.head.appendChild(style);
  }
}

export const activate: ActivationFunction = (context: RendererContext<unknown>) => {
  addStylesheet();
  const post = (message: FromRenderer): void => context.postMessage?.(message);
  const manager = new BridgeWidgetManager(post);
  context.onDidReceiveMessage?.((message) => manager.receive(message as ToRenderer));
  const shown = new Map<string, HTMLElement>();
  return {
    async renderOutputItem(item: OutputItem, element: HTMLElement): Promise<void> {
      const view = item.json() as WidgetView;
      element.replaceChildren();
      const host = document.createElement("div");
      host.className = "nbbridge-widget jp-OutputArea-output";
      element.appendChild(host);
      shown.set(item.id, host);
      try {
        await manager.show(view.model_id, host);
      } catch (error) {
        // the text form the kernel sent with the view, and why the widget is missing
        const fallback = document.createElement("pre");
        fallback.className = "nbbridge-widget-missing";
        fallback.textContent = error instanceof Error ? error.message : String(error);
        host.replaceChildren(fallback);
      }
    },
    disposeOutputItem(id?: string): void {
      if (id === undefined) {
        shown.forEach((element) => element.replaceChildren());
        shown.clear();
      } else {
        shown.get(id)?.replaceChildren();
        shown.delete(id);
      }
    },
  };
};
