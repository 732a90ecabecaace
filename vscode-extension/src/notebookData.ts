// The bridge's notebook object <-> plain cell descriptions. Pure: no `vscode` import.
//
// Everything the editor does not interpret rides along untouched: a cell's metadata holds
// the bridge's cell object minus `kind`/`source`/`outputs`, the notebook's metadata holds the
// bridge's notebook object minus `cells`, and each output keeps its nbformat dict. Sending
// them back unchanged lets the bridge write an unchanged notebook byte for byte.

import { vscodeLanguage } from "./languages";
import type { NbOutput } from "./outputs";

export type CellKind = "code" | "markdown" | "raw";

export interface BridgeCell extends Record<string, unknown> {
  kind: CellKind;
  source: string;
  outputs?: NbOutput[];
  execution_count?: number | null;
}

export interface BridgeNotebook extends Record<string, unknown> {
  cells: BridgeCell[];
}

/** A cell as the editor holds it. */
export interface EditorCell {
  kind: "code" | "markup";
  source: string;
  languageId: string;
  metadata: Record<string, unknown>;
  outputs: NbOutput[];
  executionOrder?: number;
  /** The outputs are still exactly the ones the bridge gave with the cell's outputs token. */
  outputsUnchanged?: boolean;
}

export const RAW_LANGUAGE = "raw";
export const MARKDOWN_LANGUAGE = "markdown";

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The VS Code language of the notebook's code cells, as its metadata says (Python if
 * silent). */
export function notebookLanguage(notebookMetadata: Record<string, unknown>): string {
  const metadata = notebookMetadata.metadata;
  if (isObject(metadata)) {
    const kernelspec = metadata.kernelspec;
    if (isObject(kernelspec) && typeof kernelspec.language === "string" && kernelspec.language) {
      return vscodeLanguage(kernelspec.language);
    }
    const languageInfo = metadata.language_info;
    if (isObject(languageInfo) && typeof languageInfo.name === "string" && languageInfo.name) {
      return vscodeLanguage(languageInfo.name);
    }
  }
  return "python";
}

/** The kernelspec name the notebook was last run with, if it says. */
export function notebookKernelName(notebookMetadata: Record<string, unknown>): string | undefined {
  const metadata = notebookMetadata.metadata;
  if (isObject(metadata) && isObject(metadata.kernelspec)) {
    const name = metadata.kernelspec.name;
    return typeof name === "string" && name ? name : undefined;
  }
  return undefined;
}

/** The editor's cells and notebook metadata; `parts` are the cells the bridge sent as
 * partial results, which come before the reply's own. */
export function editorNotebook(
  notebook: BridgeNotebook,
  parts: BridgeCell[][] = [],
): {
  cells: EditorCell[];
  metadata: Record<string, unknown>;
} {
  const { cells, ...metadata } = notebook;
  if (!Array.isArray(cells) || !parts.every(Array.isArray)) {
    throw new Error("the bridge sent a notebook without a cell list");
  }
  const language = notebookLanguage(metadata);
  return { cells: [...parts.flat(), ...cells].map((cell) => editorCell(cell, language)), metadata };
}

function editorCell(cell: BridgeCell, language: string): EditorCell {
  const { kind, source, outputs, ...rest } = cell;
  const executionCount = cell.execution_count;
  return {
    kind: kind === "markdown" ? "markup" : "code",
    source: typeof source === "string" ? source : "",
    languageId: kind === "markdown" ? MARKDOWN_LANGUAGE : kind === "raw" ? RAW_LANGUAGE : language,
    metadata: rest,
    outputs: Array.isArray(outputs) ? outputs : [],
    executionOrder: typeof executionCount === "number" ? executionCount : undefined,
  };
}

/** The token the bridge named a cell's outputs with when it read them (in the cell's
 * `codec`), if any: sending it instead of unchanged outputs spares moving them again. */
export function outputsToken(cellMetadata: Record<string, unknown>): string | undefined {
  const codec = cellMetadata.codec;
  return isObject(codec) && typeof codec.outputs === "string" ? codec.outputs : undefined;
}

/** The notebook for `notebook/serialize`; with `byToken`, unchanged outputs go as their
 * token (the bridge answers -32004 if it no longer knows one: send again without). */
export function bridgeNotebook(
  cells: EditorCell[],
  metadata: Record<string, unknown>,
  byToken = false,
): BridgeNotebook {
  return { ...metadata, cells: cells.map((cell) => bridgeCell(cell, byToken)) };
}

function bridgeCell(cell: EditorCell, byToken: boolean): BridgeCell {
  const kind: CellKind =
    cell.kind === "markup" ? "markdown" : cell.languageId === RAW_LANGUAGE ? "raw" : "code";
  // Keys keep their places; code-only keys go when the user made a code cell something else.
  const { outputs: _outputs, execution_count: storedCount, ...rest } = cell.metadata;
  if (kind !== "code") {
    return { ...rest, kind, source: cell.source };
  }
  const executionCount =
    cell.executionOrder !== undefined ? cell.executionOrder : typeof storedCount === "number" ? storedCount : null;
  if (byToken && cell.outputsUnchanged && outputsToken(cell.metadata) !== undefined) {
    return { ...cell.metadata, kind, source: cell.source, execution_count: executionCount };
  }
  return { ...cell.metadata, kind, source: cell.source, outputs: cell.outputs, execution_count: executionCount };
}

/** The nbformat cell id a cell's metadata holds, if any. */
export function cellIdOf(cellMetadata: Record<string, unknown>): string | undefined {
  const id = cellMetadata.id;
  return typeof id === "string" && id ? id : undefined;
}

/** Whether the notebook's cells carry ids: nbformat 4.5 and later (a new notebook is
 * written as 4.5). An older notebook's schema forbids them. */
export function takesCellIds(notebookMetadata: Record<string, unknown>): boolean {
  const major = notebookMetadata.nbformat;
  const minor = notebookMetadata.nbformat_minor;
  if (major === undefined) {
    return true;
  }
  return typeof major === "number" && (major > 4 || (major === 4 && typeof minor === "number" && minor >= 5));
}
