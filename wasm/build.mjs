// Builds wasm/descent.wasm, the WebAssembly backend's kernels (src/backends/wasm/), from the C
// sources beside this file with clang's wasm32 target and wasm-ld (Debian: apt install clang lld).
// Freestanding (no libc, no download): SIMD128 for the kernels, bulk-memory for memcpy/memset.
// The .wasm is committed and shipped in the package, so a clone or an install without clang has it;
// `npm run build` calls this and skips with one line when clang cannot target wasm32.
// Usage: node wasm/build.mjs [--check] (--check: fail instead of skipping when clang is missing).

import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";
import fs from "node:fs";

const dir = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(dir, "descent.wasm");
/** The same kernels over an imported shared memory, for worker threads (src/backends/wasm/threads.ts). */
const outMt = path.join(dir, "descent-mt.wasm");
const sources = ["gemm.c", "window.c", "probe.c", "support.c"].map((f) => path.join(dir, f));
const check = process.argv.includes("--check");

const clang = ["clang", "clang-14", "clang-15", "clang-16", "clang-17", "clang-18"].find(
  (c) => spawnSync(c, ["--target=wasm32", "-print-targets"], { stdio: "ignore" }).status === 0,
);
const lld = spawnSync("wasm-ld", ["--version"], { stdio: "ignore" }).status === 0;
if (!clang || !lld) {
  const msg = `wasm/build.mjs: skipped (needs clang with the wasm32 target and wasm-ld: apt install clang lld); ${
    fs.existsSync(out)
      ? "the committed wasm/descent.wasm stays"
      : "wasm/descent.wasm is missing, so the wasm backend is unavailable"
  }`;
  process.stdout.write(msg + "\n");
  process.exit(check ? 1 : 0);
}

const common = [
  "--target=wasm32",
  "-O3",
  "-msimd128",
  "-mbulk-memory",
  "-nostdlib",
  "-ffreestanding",
  "-fvisibility=hidden",
  // Loop strength reduction rewrites the micro-kernel's loads as base + i32.add, which wasm-ld keeps
  // and V8 turns into one lea per load; without it the constant offsets fold into the loads'
  // offset immediates (1024³ GEMM ~20% faster here).
  "-mllvm",
  "-disable-lsr",
  "-Wall",
  "-Werror",
  "-Wl,--no-entry",
  "-Wl,--export-dynamic",
  "-Wl,--export=__heap_base",
  "-Wl,-z,stack-size=262144",
  "-Wl,--strip-all",
];
// Single-threaded: its own memory, growable to wasm32's whole address space (heap.ts grows it).
const single = [...common, "-Wl,--max-memory=4294967296", "-o", out, ...sources];
// Threaded: imports a shared memory (data initialised once, by the first instance) and exports its
// stack pointer, which each worker moves to its own stack.
const mt = [
  ...common,
  "-matomics",
  "-mmutable-globals",
  "-Wl,--import-memory",
  "-Wl,--shared-memory",
  "-Wl,--max-memory=2147483648",
  "-Wl,--export=__stack_pointer",
  "-o",
  outMt,
  ...sources,
];
for (const [args, file] of [
  [single, out],
  [mt, outMt],
]) {
  execFileSync(clang, args, { stdio: "inherit" });
  const size = fs.statSync(file).size;
  process.stdout.write(`wasm/build.mjs: built ${path.relative(process.cwd(), file)} (${size} bytes) with ${clang}\n`);
}
