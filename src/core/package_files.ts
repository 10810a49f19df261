// Where the package's own run-time files are (the native addon, the MPI binding, the DataLoader's
// worker entry). They are found from the package root, not relative to the calling module, because
// that module sits at a different depth in each layout: src/backends/native/ under tsx, the one
// bundle dist/descent.cjs in the build (scripts/build.mjs), node_modules/descent-nn/dist/ installed.

// Node's fs/path/url are reached through the platform seam, not static imports, so the backends that
// ask for the addon's path stay importable from the browser bundle (src/browser.ts).
import { DescentError } from "./errors.js";
import { builtin } from "./platform.js";

type Fs = { existsSync(p: string): boolean };
type Path = { dirname(p: string): string; join(...p: string[]): string };
type Url = { fileURLToPath(u: string): string };

function node(): { fs: Fs; path: Path; url: Url } {
  const fs = builtin<Fs>("node:fs");
  const path = builtin<Path>("node:path");
  const url = builtin<Url>("node:url");
  if (!fs || !path || !url) throw new DescentError("packageRoot: the package's files are reachable only under Node");
  return { fs, path, url };
}

let root: string | undefined;

/** The folder holding the package's package.json (found once, on first use: no work at import). */
export function packageRoot(): string {
  if (root === undefined) {
    const { fs, path, url } = node();
    const { dirname, join } = path;
    let dir = dirname(url.fileURLToPath(import.meta.url));
    // src/ and dist/ hold no package.json, so the first one above is the package's own.
    for (let up = dirname(dir); !fs.existsSync(join(dir, "package.json")) && up !== dir; up = dirname(dir)) dir = up;
    root = dir;
  }
  return root;
}

/** A file of the package, by its path from the package root ("build/Release/descent_native.node"). */
export function packageFile(relative: string): string {
  return node().path.join(packageRoot(), relative);
}

/** True when this code runs from the TypeScript sources (tests and benches under tsx), not from dist/. */
export function runningFromSources(): boolean {
  return import.meta.url.endsWith(".ts");
}
