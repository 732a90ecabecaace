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

await build({
  ...common,
  entryPoints: ["test/e2e/notebook.e2e.test.ts"],
  outdir: "out/e2e",
  external: ["playwright-core"],
});
