// Builds dist/descent.browser.js: the browser entry (src/browser.ts) bundled into one minified ES
// module for `<script type="module">` and import maps (esbuild, platform "browser": a node:
// import anywhere under the entry fails the build). `npm run build` runs it after tsc; the test
// test/browser/bundle.test.ts builds to a temporary folder with the same function and holds it to
// the size budget written in the README.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Bundles the browser entry to outfile (minified, with a source map beside it); returns esbuild's result. */
export function buildBrowser(outfile = `${root}dist/descent.browser.js`) {
  return build({
    entryPoints: [`${root}src/browser.ts`],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    sourcemap: true,
    legalComments: "none",
    // The host seam (src/core/platform.ts) sees no Node even when the bundle is imported under Node:
    // the bundle never reads DESCENT_BACKEND, loads the addon or asks for a built-in module.
    define: { "globalThis.process": "undefined" },
    outfile,
    logLevel: "warning",
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildBrowser(process.argv[2]);
