// Bundles the extension (vscode stays external) and the unit tests for plain node.
import { build } from "esbuild";
import { readdirSync } from "node:fs";

const common = { bundle: true, platform: "node", target: "node20", format: "cjs", sourcemap: true, logLevel: "warning" };

await build({ ...common, entryPoints: ["src/extension.ts"], outfile: "dist/extension.js", external: ["vscode"] });

// The widget renderer runs in the notebook's webview: a browser ES module, its CSS beside it.
// The widget packages require their CSS from JS; the renderer links the bundled sheet instead.
const cssFromJs = {
  name: "css-from-js",
  setup(plugin) {
    plugin.onLoad({ filter: /\.css$/ }, () => ({ contents: "", loader: "js" }));
  },
};
const css = await build({
  bundle: true,
  minify: true,
  write: false,
  logLevel: "warning",
  entryPoints: ["src/renderer/widgets.css"],
  outfile: "dist/widgetRenderer.css",
  loader: { ".woff": "dataurl", ".woff2": "dataurl", ".ttf": "dataurl", ".eot": "dataurl", ".svg": "dataurl" },
});
await build({
  bundle: true,
  platform: "browser",
  format: "esm",
  target: "es2020",
  minify: true,
  logLevel: "warning",
  entryPoints: ["src/renderer/widgetRenderer.ts"],
  outfile: "dist/widgetRenderer.js",
  define: { "process.env.NODE_ENV": '"production"', WIDGET_CSS: JSON.stringify(css.outputFiles[0].text) },
  loader: { ".svg": "text" },
  plugins: [cssFromJs],
});

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

// The real-editor benchmark's rounds (bench/bench_editor.py runs each in a fresh process).
await build({
  ...common,
  entryPoints: ["test/bench/editorRound.ts"],
  outdir: "out/bench",
  external: ["playwright-core"],
});
