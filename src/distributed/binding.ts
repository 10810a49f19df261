// The optional MPI binding (native/mpi/, built by native/install.mjs when mpicc is present):
// loaded on first use, and a missing binding is a DescentError that says how to get it.

import { DescentError } from "../core/errors.js";
import { packageFile } from "../core/package_files.js";
import { nodeRequire } from "../core/platform.js";
import type { TypedArray } from "../core/dtype.js";

/** What native/mpi/mpi.cc exports. Kinds: 0 all-reduce, 1 broadcast, 2 barrier; ops: 0 sum, 1 mean, 2 max, 3 min. */
export interface MpiBinding {
  init(): [rank: number, size: number, threadLevel: number];
  start(kind: number, data: TypedArray | null, op: number, root: number): number;
  wait(id: number): void;
  finalize(): void;
  abort(code: number): void;
}

let cached: { binding: MpiBinding } | { error: string } | undefined;

/** The binding, or the reason it could not be loaded (from the package root: src/ and the dist/ bundle alike). */
export function loadMpi(): { binding: MpiBinding } | { error: string } {
  if (!cached) {
    const load = nodeRequire(import.meta.url);
    try {
      if (!load) throw new Error("native addons load only under Node");
      cached = { binding: load(packageFile("native/mpi/build/Release/descent_mpi.node")) as MpiBinding };
    } catch (e) {
      cached = { error: e instanceof Error ? e.message.split("\n")[0]! : String(e) };
    }
  }
  return cached;
}

export function mpiBinding(where: string): MpiBinding {
  const got = loadMpi();
  if ("binding" in got) return got.binding;
  throw new DescentError(
    `${where}: the MPI binding is not available (${got.error}); install MPI (Debian: apt-get install openmpi-bin libopenmpi-dev) and rebuild with \`node native/install.mjs\``,
  );
}
