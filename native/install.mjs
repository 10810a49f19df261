// npm's "install" step for descent-nn: builds the native addon from native/ with node-gyp (the copy
// npm ships; no binary is downloaded). If that cannot happen (no compiler, no make, no python3, a
// compile error), installation still succeeds: one line says Descent will use the js backend, and
// the build's output is kept in build/native-build.log. DESCENT_SKIP_NATIVE=1 skips the build.
// Then the optional MPI binding (native/mpi/, for `distributed`) builds when `mpicc` is on PATH;
// without it, or when it fails, one line says so and nothing else changes.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

if (process.env.DESCENT_SKIP_NATIVE === "1") {
  process.stdout.write("descent-nn: DESCENT_SKIP_NATIVE=1, native addon not built; Descent will use the js backend.\n");
  process.exit(0);
}

// Inside npm's lifecycle, npm_config_node_gyp names its node-gyp; elsewhere try one on PATH.
const gyp = process.env.npm_config_node_gyp;
// node-gyp downloads Node's headers unless told where they are; Debian's nodejs and the official
// tarballs install them under <prefix>/include/node, so point it there when they exist (a machine
// that reaches only the npm registry could not download them).
const gypArgs = ["rebuild"];
const prefix = dirname(dirname(process.execPath));
if (!process.env.npm_config_nodedir && existsSync(join(prefix, "include", "node", "node_api.h")))
  gypArgs.push(`--nodedir=${prefix}`);
// Run by hand (node native/install.mjs), fall back to the node-gyp bundled with npm, then to PATH.
const bundled = join(prefix, "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js");
const script = gyp ?? (existsSync(bundled) ? bundled : undefined);
const [command, args] = script ? [process.execPath, [script, ...gypArgs]] : ["node-gyp", gypArgs];
const result = spawnSync(command, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });

if (result.status !== 0) {
  const log = [result.error ? String(result.error) : "", result.stdout ?? "", result.stderr ?? ""].join("\n");
  let where = "";
  try {
    mkdirSync("build", { recursive: true });
    writeFileSync("build/native-build.log", log);
    where = "; see build/native-build.log";
  } catch {
    // a read-only package directory: the one line below still says what happened
  }
  const reason = result.error ? `node-gyp could not run (${result.error.message})` : "the native addon did not build";
  process.stdout.write(`descent-nn: ${reason}${where}. Descent will use the js backend.\n`);
}

const mpicc = spawnSync("mpicc", ["--showme:compile"], { encoding: "utf8" });
if (mpicc.status !== 0) {
  process.stdout.write("descent-nn: mpicc not found, the optional MPI binding (distributed) is not built.\n");
} else {
  const mpi = spawnSync(command, [...args, "--directory=native/mpi"], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (mpi.status !== 0) {
    let where = "";
    try {
      mkdirSync("build", { recursive: true });
      writeFileSync(
        "build/mpi-build.log",
        [mpi.error ? String(mpi.error) : "", mpi.stdout ?? "", mpi.stderr ?? ""].join("\n"),
      );
      where = "; see build/mpi-build.log";
    } catch {
      // a read-only package directory: the line below still says what happened
    }
    process.stdout.write(`descent-nn: the optional MPI binding (distributed) did not build${where}.\n`);
  }
}
