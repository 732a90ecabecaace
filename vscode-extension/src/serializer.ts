// NotebookSerializer: the bridge reads and writes .ipynb; this file only maps shapes.

import * as vscode from "vscode";
import { BridgeRequestError, type Bridge } from "./client";
import {
  bridgeNotebook,
  editorNotebook,
  outputsToken,
  type BridgeCell,
  type EditorCell,
} from "./notebookData";
import { fullOutput, outputItems, slimOutput, type NbOutput } from "./outputs";
import { ErrorCode, NOTEBOOK_DESERIALIZE, NOTEBOOK_SERIALIZE, type Encoding } from "./protocol";

export const NOTEBOOK_TYPE = "nbbridge-notebook";

/** Where each NotebookCellOutput keeps its nbformat dict, without what its items hold. */
const NBFORMAT_KEY = "nbformat";
/** Where a bundle output keeps its mimetypes' order. */
const MIMES_KEY = "nbbridgeMimes";
/** Where an output read from the file keeps which of its cell's outputs it was. */
const ORIGIN_KEY = "nbbridgeOrigin";
interface OutputOrigin {
  token: string;
  index: number;
  count: number;
  /** The bytes of its items when read: an output grown since is not the file's. */
  bytes?: number;
}

// What an empty file (a brand-new .ipynb) opens as; the bridge fills in the rest.
const EMPTY_NOTEBOOK = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}';

function itemBytes(items: readonly { data: Uint8Array }[]): number {
  return items.reduce((total, item) => total + item.data.byteLength, 0);
}

export function cellOutput(output: NbOutput, origin?: OutputOrigin): vscode.NotebookCellOutput {
  const items = outputItems(output).map((item) => new vscode.NotebookCellOutputItem(item.data, item.mime));
  const { slim, mimes } = slimOutput(output);
  return new vscode.NotebookCellOutput(items, {
    [NBFORMAT_KEY]: slim,
    ...(mimes && { [MIMES_KEY]: mimes }),
    ...(origin && { [ORIGIN_KEY]: { ...origin, bytes: itemBytes(items) } }),
  });
}

/** The nbformat dict to write for an output the editor holds. */
export function savedOutput(output: vscode.NotebookCellOutput): NbOutput {
  const slim = output.metadata?.[NBFORMAT_KEY] as NbOutput | undefined;
  if (slim === undefined) {
    // An output some other extension added: keep what can be kept.
    const data: Record<string, string> = {};
    for (const item of output.items) {
      data[item.mime] = new TextDecoder().decode(item.data);
    }
    return { output_type: "display_data", data, metadata: {} };
  }
  return fullOutput(slim, output.items, output.metadata?.[MIMES_KEY] as string[] | undefined);
}

export class BridgeSerializer implements vscode.NotebookSerializer {
  constructor(private readonly bridge: Bridge) {}

  async deserializeNotebook(content: Uint8Array): Promise<vscode.NotebookData> {
    const bytes = new TextDecoder().decode(content).trim() === "" ? Buffer.from(EMPTY_NOTEBOOK) : content;
    // Bytes travel as base64: neither side escapes the whole file into a JSON string.
    // A large notebook's cells come in parts ahead of the reply, parsed as they arrive.
    const parts: BridgeCell[][] = [];
    const result = await this.bridge.requestInParts(
      NOTEBOOK_DESERIALIZE,
      { contentBase64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64") },
      (part) => parts.push(part.cells),
    );
    for (const warning of result.warnings ?? []) {
      void vscode.window.showWarningMessage(`nbbridge: ${warning}`);
    }
    const { cells, metadata } = editorNotebook(result.notebook, parts);
    const data = new vscode.NotebookData(cells.map(cellData));
    data.metadata = metadata;
    return data;
  }

  async serializeNotebook(data: vscode.NotebookData): Promise<Uint8Array> {
    const cells = data.cells.map((cell) => editorCell(cell.kind, cell.value, cell.languageId, cell));
    // A failed request throws: VS Code then reports it and leaves the file on disk alone.
    const pieces = await this.serialize(cells, data.metadata ?? {}, "base64");
    return Buffer.concat(pieces.map((piece) => Buffer.from(piece, "base64")));
  }

  /** The file text an open notebook would be saved as now, unsaved edits included. */
  async currentText(notebook: vscode.NotebookDocument): Promise<string> {
    const cells = notebook
      .getCells()
      .map((cell) => editorCell(cell.kind, cell.document.getText(), cell.document.languageId, cell));
    return (await this.serialize(cells, notebook.metadata, "text")).join("");
  }

  /** The file's content in pieces (a large file comes in parts ahead of the reply).
   * Unchanged outputs go as their tokens; a bridge that no longer knows one (restarted,
   * or it let them go) is sent the outputs in full. */
  private async serialize(
    cells: EditorCell[],
    metadata: Record<string, unknown>,
    encoding: Encoding,
  ): Promise<string[]> {
    const member = encoding === "base64" ? "contentBase64" : "content";
    const request = async (byToken: boolean) => {
      const pieces: string[] = [];
      // The reply and its parts hold the member the encoding names.
      const result = await this.bridge.requestInParts(
        NOTEBOOK_SERIALIZE,
        { notebook: bridgeNotebook(cells, metadata, byToken), encoding },
        (part) => pieces.push(part[member] as string),
      );
      pieces.push(result[member] as string);
      return pieces;
    };
    try {
      return await request(true);
    } catch (error) {
      if (error instanceof BridgeRequestError && error.code === ErrorCode.OUTPUTS_UNKNOWN) {
        return request(false);
      }
      throw error;
    }
  }
}

function editorCell(
  kind: vscode.NotebookCellKind,
  source: string,
  languageId: string,
  cell: {
    metadata?: Record<string, unknown>;
    outputs?: readonly vscode.NotebookCellOutput[];
    executionSummary?: vscode.NotebookCellExecutionSummary;
  },
): EditorCell {
  const metadata = cell.metadata ?? {};
  const outputs = cell.outputs ?? [];
  const token = outputsToken(metadata);
  let saved: NbOutput[] | undefined;
  return {
    kind: kind === vscode.NotebookCellKind.Markup ? "markup" : "code",
    source,
    languageId,
    metadata,
    // built only when sent: unchanged outputs go as their token
    get outputs() {
      saved ??= outputs.map(savedOutput);
      return saved;
    },
    executionOrder: cell.executionSummary?.executionOrder,
    outputsUnchanged:
      token !== undefined &&
      outputs.length > 0 &&
      outputs.every((output, index) => {
        const origin = output.metadata?.[ORIGIN_KEY] as OutputOrigin | undefined;
        return (
          origin?.token === token &&
          origin.index === index &&
          origin.count === outputs.length &&
          origin.bytes === itemBytes(output.items)
        );
      }),
  };
}

function cellData(cell: EditorCell): vscode.NotebookCellData {
  const kind = cell.kind === "markup" ? vscode.NotebookCellKind.Markup : vscode.NotebookCellKind.Code;
  const data = new vscode.NotebookCellData(kind, cell.source, cell.languageId);
  data.metadata = cell.metadata;
  const token = outputsToken(cell.metadata);
  const count = cell.outputs.length;
  data.outputs = cell.outputs.map((output, index) =>
    cellOutput(output, token === undefined ? undefined : { token, index, count }),
  );
  if (cell.executionOrder !== undefined) {
    data.executionSummary = { executionOrder: cell.executionOrder };
  }
  return data;
}
