import assert from "node:assert/strict";
import { test } from "node:test";
import {
  bridgeNotebook,
  cellIdOf,
  editorNotebook,
  notebookKernelName,
  notebookLanguage,
  outputsToken,
  takesCellIds,
  type BridgeNotebook,
} from "../../src/notebookData";

const fromBridge = (): BridgeNotebook => ({
  nbformat: 4,
  nbformat_minor: 5,
  metadata: { kernelspec: { name: "python3", language: "python", display_name: "Python 3" }, custom: [1] },
  codec: { style: { indent: 1 } },
  cells: [
    { kind: "markdown", source: "# Title", metadata: { tags: ["a"] }, id: "m1", attachments: {} },
    {
      kind: "code",
      source: "print(1)",
      metadata: {},
      id: "c1",
      execution_count: 3,
      outputs: [{ output_type: "stream", name: "stdout", text: ["1\n"] }],
      codec: { source: "list" },
      extra_key: "kept",
    },
    { kind: "raw", source: "raw text", metadata: { format: "text/x-rst" } },
    { kind: "code", source: "", metadata: {}, execution_count: null, outputs: [] },
  ],
});

test("cells sent as partial results come first, in order, then the reply's own", () => {
  const [markdown, code, raw, empty] = fromBridge().cells;
  const reply = { ...fromBridge(), cells: [empty] };
  const { cells, metadata } = editorNotebook(reply, [[markdown], [code, raw]]);
  assert.deepEqual(
    cells.map((cell) => cell.source),
    ["# Title", "print(1)", "raw text", ""],
  );
  assert.deepEqual(editorNotebook(fromBridge()).cells, cells);
  assert.equal(metadata.nbformat, 4);
});

test("cells map to editor kinds and languages; the rest rides in metadata", () => {
  const { cells, metadata } = editorNotebook(fromBridge());
  assert.deepEqual(cells.map((cell) => [cell.kind, cell.languageId]), [
    ["markup", "markdown"],
    ["code", "python"],
    ["code", "raw"],
    ["code", "python"],
  ]);
  assert.equal(cells[1].executionOrder, 3);
  assert.equal(cells[3].executionOrder, undefined);
  assert.deepEqual(cells[1].metadata, { metadata: {}, id: "c1", execution_count: 3, codec: { source: "list" }, extra_key: "kept" });
  assert.equal("cells" in metadata, false);
  assert.deepEqual(metadata.codec, { style: { indent: 1 } });
});

test("an untouched notebook goes back to the bridge exactly as it came", () => {
  const original = fromBridge();
  const { cells, metadata } = editorNotebook(fromBridge());
  assert.deepEqual(bridgeNotebook(cells, metadata), original);
});

test("an edit changes only that cell; a new execution count replaces the stored one", () => {
  const { cells, metadata } = editorNotebook(fromBridge());
  cells[1] = { ...cells[1], source: "print(2)", executionOrder: 4, outputs: [] };
  const back = bridgeNotebook(cells, metadata);
  const original = fromBridge();
  assert.deepEqual(back.cells[0], original.cells[0]);
  assert.deepEqual(back.cells[2], original.cells[2]);
  assert.deepEqual(back.cells[1], { ...original.cells[1], source: "print(2)", execution_count: 4, outputs: [] });
});

test("a cell new in the editor is sent without id or codec; kind changes drop code-only keys", () => {
  const { cells, metadata } = editorNotebook(fromBridge());
  cells.push({ kind: "code", source: "x = 1", languageId: "python", metadata: {}, outputs: [] });
  cells[1] = { ...cells[1], kind: "markup", languageId: "markdown" };
  const back = bridgeNotebook(cells, metadata);
  assert.deepEqual(back.cells[4], { kind: "code", source: "x = 1", outputs: [], execution_count: null });
  assert.equal(back.cells[1].kind, "markdown");
  assert.equal("outputs" in back.cells[1], false);
  assert.equal("execution_count" in back.cells[1], false);
});

test("unchanged outputs go as their token only when asked, and only when unchanged", () => {
  const withToken = fromBridge();
  withToken.cells[1].codec = { source: "list", outputs: "t-1" };
  const { cells, metadata } = editorNotebook(withToken);
  assert.equal(outputsToken(cells[1].metadata), "t-1");
  assert.equal(outputsToken(cells[3].metadata), undefined);
  cells[1].outputsUnchanged = true;
  const byToken = bridgeNotebook(cells, metadata, true);
  assert.equal("outputs" in byToken.cells[1], false);
  assert.deepEqual({ ...byToken.cells[1], outputs: withToken.cells[1].outputs }, withToken.cells[1]);
  assert.deepEqual(byToken.cells[3].outputs, []); // no token: outputs always go
  assert.deepEqual(bridgeNotebook(cells, metadata), withToken); // not asked: in full
  cells[1].outputsUnchanged = false;
  assert.deepEqual(bridgeNotebook(cells, metadata, true).cells[1], withToken.cells[1]);
});

test("language and kernel name come from the notebook metadata", () => {
  assert.equal(notebookLanguage({ metadata: { kernelspec: { language: "R" } } }), "r");
  assert.equal(notebookLanguage({ metadata: { language_info: { name: "julia" } } }), "julia");
  assert.equal(notebookLanguage({}), "python");
  // VS Code's own ids: bash cells are shell scripts
  assert.equal(notebookLanguage({ metadata: { kernelspec: { language: "bash" } } }), "shellscript");
  assert.equal(notebookLanguage({ metadata: { language_info: { name: "TypeScript" } } }), "typescript");
  assert.equal(notebookKernelName({ metadata: { kernelspec: { name: "ir" } } }), "ir");
  assert.equal(notebookKernelName({ metadata: {} }), undefined);
});

test("a bridge answer without cells is a clear error", () => {
  assert.throws(() => editorNotebook({} as BridgeNotebook), /without a cell list/);
});

test("a cell's id comes from its metadata; only nbformat 4.5+ (or a new notebook) takes ids", () => {
  assert.equal(cellIdOf({ id: "a1b2" }), "a1b2");
  assert.equal(cellIdOf({}), undefined);
  assert.equal(cellIdOf({ id: 3 }), undefined);
  assert.equal(takesCellIds({ nbformat: 4, nbformat_minor: 5 }), true);
  assert.equal(takesCellIds({ nbformat: 4, nbformat_minor: 4 }), false);
  assert.equal(takesCellIds({ nbformat: 3, nbformat_minor: 0 }), false);
  assert.equal(takesCellIds({}), true);
});
