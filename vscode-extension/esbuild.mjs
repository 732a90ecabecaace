// Bundles the extension (vscode stays external) and the unit tests for plain node.
import { build } from "esbuild";
import { readdirSync } from "node:fs";

const common = { bundle: true, platform: "node", target: "node20", format: "cjs", sourcemap: true, logLevel: "warning" };

await build({ ...common, entryPoints: ["src/extension.ts"], outfile: "dist/extension.js", external: ["vscode"] });

const unitTests = readdirSync("test/unit").filter((name) => name.endsWith(".test.ts"));
await build({
  ...common,
  entryPoints: unitTests.map((name) => `test/unit/${name}`),
  outdir: "out/unit",
});

const e2eTests = readdirSync("test/e2e").filter((name) => name.endsWith(".e2e.test.ts"));
await build({
  ...common,
  entryPoints: e2eTests.map((name) => `test/e2e/${name}`),
  outdir: "out/e2e",
  external: ["playwright-core"],
});
