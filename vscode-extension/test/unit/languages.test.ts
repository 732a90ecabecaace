import assert from "node:assert/strict";
import { test } from "node:test";
import { languageInfoLanguage, vscodeLanguage } from "../../src/languages";

test("Jupyter language names become VS Code language ids", () => {
  assert.equal(vscodeLanguage("R"), "r");
  assert.equal(vscodeLanguage("bash"), "shellscript");
  assert.equal(vscodeLanguage("typescript"), "typescript");
  assert.equal(vscodeLanguage("javascript"), "javascript");
  assert.equal(vscodeLanguage("julia"), "julia");
  assert.equal(vscodeLanguage("scala"), "scala");
  assert.equal(vscodeLanguage("python"), "python");
  assert.equal(vscodeLanguage("Python3"), "python");
  assert.equal(vscodeLanguage("Haskell"), "haskell"); // unknown: as given, in lower case
});

test("a kernel's language_info names its cells' language", () => {
  assert.equal(languageInfoLanguage({ name: "R", version: "4.2.2" }), "r");
  assert.equal(languageInfoLanguage({ name: "bash", file_extension: ".sh" }), "shellscript");
  assert.equal(languageInfoLanguage({}), undefined);
  assert.equal(languageInfoLanguage(undefined), undefined);
});
