// nbformat output dicts <-> the (mime, bytes) items VS Code renders. Pure: no `vscode` import,
// so the conversion is unit-tested under plain node.

export type NbOutput = { output_type: string } & Record<string, unknown>;

export interface OutputItemData {
  mime: string;
  data: Uint8Array;
}

export const STDOUT_MIME = "application/vnd.code.notebook.stdout";
export const STDERR_MIME = "application/vnd.code.notebook.stderr";
export const ERROR_MIME = "application/vnd.code.notebook.error";

/** Richest first, as Jupyter's renderers choose; mimetypes not listed go between these and
 * the plain fallbacks below. */
const PREFERRED_MIMES = [
  "application/vnd.jupyter.widget-view+json",
  "application/javascript",
  "text/html",
  "text/markdown",
  "text/latex",
  "image/svg+xml",
  "image/png",
  "image/jpeg",
  "image/gif",
  "application/pdf",
];
const FALLBACK_MIMES = ["application/json", "text/plain"];

const BASE64_MIMES = new Set(["image/png", "image/jpeg", "image/gif", "image/bmp", "application/pdf"]);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function isJsonMime(mime: string): boolean {
  return mime === "application/json" || mime.endsWith("+json");
}

/** nbformat multiline strings are a string or a list of lines. */
export function joinText(value: unknown): string {
  if (Array.isArray(value)) {
    return value.map((part) => (typeof part === "string" ? part : String(part))).join("");
  }
  return typeof value === "string" ? value : value === undefined || value === null ? "" : String(value);
}

function mimeRank(mime: string): number {
  const preferred = PREFERRED_MIMES.indexOf(mime);
  if (preferred >= 0) {
    return preferred;
  }
  const fallback = FALLBACK_MIMES.indexOf(mime);
  return fallback >= 0 ? PREFERRED_MIMES.length + 1 + fallback : PREFERRED_MIMES.length;
}

/** Mimetypes of a bundle, the one VS Code should render first at the front. */
export function orderMimes(mimes: string[]): string[] {
  return mimes
    .map((mime, index) => ({ mime, index }))
    .sort((a, b) => mimeRank(a.mime) - mimeRank(b.mime) || a.index - b.index)
    .map((entry) => entry.mime);
}

function encodeMimeValue(mime: string, value: unknown): Uint8Array {
  if (BASE64_MIMES.has(mime) && (typeof value === "string" || Array.isArray(value))) {
    return Uint8Array.from(Buffer.from(joinText(value).replace(/\s/g, ""), "base64"));
  }
  if (isJsonMime(mime) && typeof value !== "string") {
    return encoder.encode(JSON.stringify(value));
  }
  return encoder.encode(joinText(value));
}

/** What VS Code's built-in error renderer reads: the traceback keeps its ANSI colours. */
function errorItem(output: NbOutput): OutputItemData {
  const traceback = Array.isArray(output.traceback) ? output.traceback.map(String) : [];
  const error = {
    name: joinText(output.ename),
    message: joinText(output.evalue),
    stack: traceback.join("\n"),
  };
  return { mime: ERROR_MIME, data: encoder.encode(JSON.stringify(error)) };
}

export function streamMime(name: unknown): string {
  return name === "stderr" ? STDERR_MIME : STDOUT_MIME;
}

export function textItem(mime: string, text: string): OutputItemData {
  return { mime, data: encoder.encode(text) };
}

/** The items of one nbformat output, in the order VS Code should prefer them. */
export function outputItems(output: NbOutput): OutputItemData[] {
  switch (output.output_type) {
    case "stream":
      return [textItem(streamMime(output.name), joinText(output.text))];
    case "error":
      return [errorItem(output)];
    case "display_data":
    case "execute_result":
    case "update_display_data": {
      const bundle = output.data;
      if (typeof bundle !== "object" || bundle === null || Array.isArray(bundle)) {
        return [];
      }
      const values = bundle as Record<string, unknown>;
      return orderMimes(Object.keys(values)).map((mime) => ({
        mime,
        data: encodeMimeValue(mime, values[mime]),
      }));
    }
    default:
      // An output type this editor does not know: show what it is rather than nothing.
      return [textItem("text/plain", `unsupported output type ${JSON.stringify(output.output_type)}`)];
  }
}

function isBundleOutput(output: NbOutput): boolean {
  return ["display_data", "execute_result", "update_display_data"].includes(output.output_type);
}

/** What an output keeps beside its items: its nbformat dict without what the items hold
 * already (a bundle's data, a stream's text), so that nothing large is held, or sent to
 * the workbench, twice; `mimes` is the bundle's own order of mimetypes. */
export function slimOutput(output: NbOutput): { slim: NbOutput; mimes?: string[] } {
  if (output.output_type === "stream") {
    const { text: _text, ...slim } = output;
    return { slim: slim as NbOutput };
  }
  if (isBundleOutput(output)) {
    const { data, ...slim } = output;
    const mimes = typeof data === "object" && data !== null && !Array.isArray(data) ? Object.keys(data) : [];
    return { slim: slim as NbOutput, mimes };
  }
  return { slim: output };
}

function decodeMimeValue(mime: string, data: Uint8Array): unknown {
  if (BASE64_MIMES.has(mime)) {
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64");
  }
  const text = decoder.decode(data);
  if (isJsonMime(mime)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

/** The nbformat dict to save for an output: its slim dict with what its items hold now
 * (a stream grows item by item while its cell runs). */
export function fullOutput(slim: NbOutput, items: OutputItemData[], mimes?: string[]): NbOutput {
  if (slim.output_type === "stream") {
    const text = items
      .filter((item) => item.mime === STDOUT_MIME || item.mime === STDERR_MIME)
      .map((item) => decoder.decode(item.data))
      .join("");
    return { ...slim, text };
  }
  if (!isBundleOutput(slim)) {
    return slim;
  }
  const byMime = new Map(items.map((item) => [item.mime, item.data]));
  const data: Record<string, unknown> = {};
  for (const mime of mimes ?? [...byMime.keys()]) {
    const bytes = byMime.get(mime);
    if (bytes !== undefined) {
      data[mime] = decodeMimeValue(mime, bytes);
    }
  }
  const { output_type: outputType, ...rest } = slim;
  return { output_type: outputType, data, ...rest };
}
