// Builds dashboard/assets/05-plotly-partial.min.js: plotly.js core plus only the trace types
// listed in traces.json, registered on plotly.js/lib/core (the way plotly.js's own
// lib/index-*.js partial bundles are made), minified by esbuild as an IIFE that sets
// window.Plotly. dcc.Graph uses window.Plotly when it is present and then never fetches
// the full plotly.min.js. Run through `make plotly-bundle` (npm ci first, so the lock file
// decides every version). Usage: node build.mjs [--expect-version X.Y.Z]
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "..", "dashboard", "assets", "05-plotly-partial.min.js");
const { traces } = JSON.parse(readFileSync(join(here, "traces.json"), "utf8"));
const pkg = JSON.parse(readFileSync(join(here, "package.json"), "utf8"));
const installed = (name) =>
  JSON.parse(readFileSync(join(here, "node_modules", name, "package.json"), "utf8")).version;
const version = installed("plotly.js");

function fail(message) {
  console.error(`plotly-bundle: ${message}`);
  process.exit(1);
}

if (version !== pkg.dependencies["plotly.js"]) {
  fail(`node_modules has plotly.js ${version}, package.json pins ` +
    `${pkg.dependencies["plotly.js"]}: run npm ci`);
}
const expect = process.argv.indexOf("--expect-version");
if (expect > 0 && process.argv[expect + 1] !== version) {
  fail(`the installed plotly Python package targets plotly.js ${process.argv[expect + 1]}, ` +
    `package.json pins ${version}: change the pin, npm install, and build again`);
}
if (!Array.isArray(traces) || !traces.length || traces.some((t) => !/^[a-z0-9]+$/.test(t))) {
  fail("traces.json must list trace type names such as \"scatter\"");
}
const sorted = [...new Set(traces)].sort();

// scatter is registered by core itself; listing it keeps the list complete, as plotly.js advises.
const entry = [
  'var Plotly = require("plotly.js/lib/core");',
  "Plotly.register([",
  ...sorted.filter((t) => t !== "scatter").map((t) => `  require("plotly.js/lib/${t}"),`),
  "]);",
  "module.exports = Plotly;",
].join("\n");

const result = await esbuild.build({
  stdin: { contents: entry, resolveDir: here, sourcefile: "plotly-partial-entry.js" },
  bundle: true,
  format: "iife",
  globalName: "Plotly",
  minify: true,
  target: "es2016",
  // As plotly.js's own esbuild-config.js; .css is only maplibre's, required for map traces.
  define: { global: "window", "define.amd": "false", "process.env.NODE_DEBUG": "false" },
  loader: { ".css": "empty" },
  legalComments: "eof",
  charset: "utf8",
  write: false,
  logLevel: "warning",
});

const header = [
  `/*! plotly.js v${version}, partial bundle for the STRAT dashboard (MIT licence, Copyright Plotly, Inc.)`,
  ` * plotly.js-version: ${version}`,
  ` * traces: ${sorted.join(",")}`,
  ` * built-by: make plotly-bundle (frontend/plotly-bundle: npm ci && node build.mjs) with esbuild ${installed("esbuild")}`,
  " * Do not edit: change frontend/plotly-bundle/traces.json and rebuild.",
  " */",
].join("\n");
const tmp = `${out}.tmp`;
writeFileSync(tmp, `${header}\n${result.outputFiles[0].text}`);
renameSync(tmp, out);
console.log(`plotly-bundle: wrote ${relative(process.cwd(), out)} ` +
  `(plotly.js ${version}; ${sorted.join(", ")})`);
