// `kernel/input`: input() and getpass() in a running cell ask in an input box.

import * as vscode from "vscode";
import { LSPErrorCodes, ResponseError } from "vscode-languageclient/node";
import type { Bridge } from "./client";
import { KERNEL_INPUT, type InputParams, type InputResult } from "./protocol";

/** Answers the bridge's `kernel/input` requests, on every bridge process it starts. */
export function answerInputRequests(bridge: Bridge): vscode.Disposable {
  return bridge.onDidStart((client) => {
    // The token is cancelled by the bridge's $/cancelRequest (interrupt, restart, death):
    // the input box then closes instead of waiting for an answer nobody reads.
    client.onRequest(KERNEL_INPUT, (params: InputParams, token: vscode.CancellationToken) =>
      askInput(params, token));
  });
}

async function askInput(params: InputParams, token: vscode.CancellationToken): Promise<InputResult> {
  const value = await vscode.window.showInputBox({
    title: "The kernel asks for input",
    prompt: params.prompt || "input()",
    placeHolder: params.prompt || undefined,
    password: params.password,
    ignoreFocusOut: true,
  }, token);
  if (value === undefined) {
    // An error answer makes the bridge interrupt the kernel, so the cell does not hang.
    return Promise.reject(new ResponseError(LSPErrorCodes.RequestCancelled, "input cancelled by the user"));
  }
  return { value };
}
