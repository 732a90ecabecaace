import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ERROR_MIME,
  STDERR_MIME,
  STDOUT_MIME,
  orderMimes,
  outputItems,
  fullOutput,
  slimOutput,
  type NbOutput,
} from "../../src/outputs";

const text = (data: Uint8Array): string => new TextDecoder().decode(data);

test("stream outputs become stdout/stderr items, list text joined", () => {
  const [out] = outputItems({ output_type: "stream", name: "stdout", text: ["a\n", "b\n"] });
  assert.equal(out.mime, STDOUT_MIME);
  assert.equal(text(out.data), "a\nb\n");
  const [err] = outputItems({ output_type: "stream", name: "stderr", text: "oops" });
  assert.equal(err.mime, STDERR_MIME);
  assert.equal(text(err.data), "oops");
});

test("errors carry name, message and the ANSI traceback for VS Code's error renderer", () => {
  const traceback = ["\u001b[0;31mZeroDivisionError\u001b[0m", "division by zero"];
  const [item] = outputItems({ output_type: "error", ename: "ZeroDivisionError", evalue: "division by zero", traceback });
  assert.equal(item.mime, ERROR_MIME);
  assert.deepEqual(JSON.parse(text(item.data)), {
    name: "ZeroDivisionError",
    message: "division by zero",
    stack: traceback.join("\n"),
  });
});

test("images are base64-decoded, svg stays text, json is stringified", () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]);
  const items = outputItems({
    output_type: "display_data",
    data: {
      "image/png": png.toString("base64").slice(0, 4) + "\n" + png.toString("base64").slice(4),
      "image/svg+xml": ["<svg>", "</svg>"],
      "application/json": { a: [1, 2] },
      "application/vnd.custom+json": { b: true },
    },
    metadata: {},
  });
  const byMime = new Map(items.map((item) => [item.mime, item.data]));
  assert.deepEqual(Buffer.from(byMime.get("image/png") ?? []), png);
  assert.equal(text(byMime.get("image/svg+xml") ?? new Uint8Array()), "<svg></svg>");
  assert.deepEqual(JSON.parse(text(byMime.get("application/json") ?? new Uint8Array())), { a: [1, 2] });
  assert.deepEqual(JSON.parse(text(byMime.get("application/vnd.custom+json") ?? new Uint8Array())), { b: true });
});

test("mimetypes are ordered richest first like Jupyter, unknown ones kept before plain text", () => {
  assert.deepEqual(
    orderMimes(["text/plain", "application/x-unknown", "image/png", "text/html", "application/json", "text/latex"]),
    ["text/html", "text/latex", "image/png", "application/x-unknown", "application/json", "text/plain"],
  );
  const items = outputItems({
    output_type: "execute_result",
    execution_count: 1,
    data: { "text/plain": "<Figure>", "image/jpeg": "AAAA", "text/markdown": "**x**" },
    metadata: {},
  });
  assert.deepEqual(items.map((item) => item.mime), ["text/markdown", "image/jpeg", "text/plain"]);
});

test("every mimetype in the bundle is passed through", () => {
  const items = outputItems({
    output_type: "display_data",
    data: { "text/plain": "x", "application/vnd.plotly.v1+json": { data: [] }, "text/csv": "a,b\n" },
    metadata: {},
  });
  assert.deepEqual(new Set(items.map((item) => item.mime)), new Set(["text/plain", "application/vnd.plotly.v1+json", "text/csv"]));
});

test("an unknown output type says so instead of vanishing", () => {
  const [item] = outputItems({ output_type: "mystery" });
  assert.equal(item.mime, "text/plain");
  assert.match(text(item.data), /unsupported output type "mystery"/);
});

test("an output keeps no copy of what its items hold, and is saved whole from them", () => {
  const png = Buffer.from("not really a png").toString("base64");
  const display: NbOutput = {
    output_type: "display_data",
    data: { "text/plain": "<Figure>", "image/png": png, "application/vnd.custom+json": { a: [1, 2] } },
    metadata: { "image/png": { width: 640 } },
  };
  const { slim, mimes } = slimOutput(display);
  assert.deepEqual(slim, { output_type: "display_data", metadata: { "image/png": { width: 640 } } });
  assert.deepEqual(mimes, ["text/plain", "image/png", "application/vnd.custom+json"]);
  const saved = fullOutput(slim, outputItems(display), mimes);
  assert.deepEqual(saved, display);
  assert.deepEqual(Object.keys(saved.data as object), mimes);
  const error: NbOutput = { output_type: "error", ename: "E", evalue: "v", traceback: ["t"] };
  assert.equal(fullOutput(slimOutput(error).slim, outputItems(error)), error);
});

test("a stream that grew item by item is saved with all its text", () => {
  const original: NbOutput = { output_type: "stream", name: "stdout", text: "a\n" };
  const grown = [...outputItems(original), { mime: STDOUT_MIME, data: new TextEncoder().encode("b\n") }];
  const { slim } = slimOutput(original);
  assert.deepEqual(slim, { output_type: "stream", name: "stdout" });
  assert.deepEqual(fullOutput(slim, grown), { output_type: "stream", name: "stdout", text: "a\nb\n" });
  assert.equal(original.text, "a\n");
});
