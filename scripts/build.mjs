// `npm run build`: the published dist/. tsc writes only the declarations (dist/**/*.d.ts, what
// TypeScript users and `types` read); esbuild writes the JavaScript as a bundle, so `import
// "descent-nn"` reads two files (dist/index.js and one shared chunk) instead of ~160 (issue 15: a
// fresh process spent most of its start-up resolving and reading them). Three entry points share
// their code through dist/chunks/, so the CLI, the library and the DataLoader's worker threads see
// one copy of each class (`instanceof Tensor` holds across them): dist/index.js (the library),
// dist/cli/main.js (the `descent` / `descent-nn` bins), dist/data/worker_entry.js (what a worker
// starts; src/data/workers.ts finds it from the package root). Dependencies stay external (npm
// installs them); keepNames keeps class names (summaries, error messages) when the bundler renames.
//
// Node's built-in modules are taken with process.getBuiltinModule, not `import`: importing node:fs
// as ESM builds its module namespace, which reads fs.ReadStream and so loads all of node:stream
// (25-60 ms of start-up on this shared machine, more than the rest of the import).
//
// The CLI's config validators (src/cli/config_validators.cjs, ajv's standalone code) are a file of
// their own, dist/cli/config_validators.cjs, which the CLI requires only when it checks a config;
// that bundle inlines the few lines of ajv's runtime they use, so the package needs no ajv at run time.

import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");

rmSync(dist, { recursive: true, force: true }); // no stale per-file output of an older build
execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], {
  cwd: root,
  stdio: "inherit",
});

/**
 * `import { x } from "node:y"` -> `x` from a small ES module over process.getBuiltinModule("node:y"),
 * which builds no ESM namespace. Each export reads its property in a pure-annotated call, so the
 * bundle keeps only the names the sources import (not a CommonJS shim: esbuild's __toESM copied
 * every property of node:fs into a new object, once per importing file, at import time).
 */
const builtinsWithoutNamespace = {
  name: "builtins-without-esm-namespace",
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (a) => ({ path: a.path, namespace: "builtin" }));
    b.onLoad({ filter: /.*/, namespace: "builtin" }, (a) => {
      // Object.keys runs no getter (fs.promises and the like load more of Node when read).
      const names = Object.keys(process.getBuiltinModule(a.path)).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n));
      const exports = names.map((n) => `export const ${n} = /* @__PURE__ */ (() => m.${n})();`);
      return {
        contents: [
          `const m = process.getBuiltinModule(${JSON.stringify(a.path)});`,
          "export default m;",
          ...exports,
        ].join("\n"),
        loader: "js",
      };
    });
  },
};

const result = await build({
  absWorkingDir: root,
  entryPoints: {
    index: "src/index.ts",
    "cli/main": "src/cli/main.ts",
    "data/worker_entry": "src/data/worker_entry.ts",
  },
  outdir: "dist",
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  keepNames: true,
  sourcemap: "linked",
  metafile: true,
  plugins: [builtinsWithoutNamespace],
  logLevel: "warning",
});

const validators = await build({
  absWorkingDir: root,
  entryPoints: ["src/cli/config_validators.cjs"],
  minify: true, // generated code, read by no one: the smaller file parses faster
  outfile: "dist/cli/config_validators.cjs",
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  metafile: true,
  logLevel: "warning",
});

const outputs = [result, validators]
  .flatMap((r) => Object.entries(r.metafile.outputs))
  .filter(([f]) => /\.c?js$/.test(f));
const kb = (n) => `${(n / 1024).toFixed(0)} kB`;
// On stderr: `npm pack --json` runs this (prepare) and parses its stdout.
console.error(`esbuild: ${outputs.map(([f, o]) => `${f.replace(/^dist\//, "")} ${kb(o.bytes)}`).join(", ")}`);
