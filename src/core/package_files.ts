// Where the package's own run-time files are (the native addon, the MPI binding, the DataLoader's
// worker entry). They are found from the package root, not relative to the calling module, because
// that module sits at a different depth in each layout: src/backends/native/ under tsx, dist/index.js
// or a dist/ chunk in the esbuild bundle (scripts/build.mjs), node_modules/descent-nn/dist/ installed.

import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

/** The folder holding the package's package.json (found once, on first use: no work at import). */
export function packageRoot(): string {
  if (root === undefined) {
    let dir = dirname(fileURLToPath(import.meta.url));
    // src/ and dist/ hold no package.json, so the first one above is the package's own.
    for (let up = dirname(dir); !existsSync(join(dir, "package.json")) && up !== dir; up = dirname(dir)) dir = up;
    root = dir;
  }
  return root;
}

/** A file of the package, by its path from the package root ("build/Release/descent_native.node"). */
export function packageFile(relative: string): string {
  return join(packageRoot(), relative);
}

/** True when this code runs from the TypeScript sources (tests and benches under tsx), not from dist/. */
export function runningFromSources(): boolean {
  return import.meta.url.endsWith(".ts");
}
