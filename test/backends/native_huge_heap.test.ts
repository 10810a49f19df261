// The native addon's start-up heap (native/gemm.cc reserve_huge_heap): loading the addon marks a
// block at the top of glibc's heap for transparent huge pages (a VMA with the "hg" flag in
// /proc/self/smaps) and gives it back to malloc, so that the next tensors are carved from it; the
// block is address space only (the process's resident memory does not grow by its size);
// DESCENT_HUGE_HEAP=0 or DESCENT_KEEP_FREED_MEMORY=0 leave the heap alone. Each case is a fresh
// process that loads the addon file and reads its own smaps. Skipped, saying so, where the addon
// was not built or the kernel has no transparent huge pages (or no /proc).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { initNative } from "../../src/backends/native/index.js";

const addonPath = path.resolve("build/Release/descent_native.node");
const skip = !initNative(false)
  ? "native addon not built (npm install could not compile native/); js backend only"
  : process.platform !== "linux" || !existsSync("/sys/kernel/mm/transparent_hugepage/enabled")
    ? "no transparent huge pages on this system"
    : false;

/** In a fresh process: loads the addon, then reports the huge-page-marked heap and its growth. */
function probe(env: Record<string, string>): { hugeKiB: number; rssGrowthKiB: number } {
  const code = `
    const fs = require("node:fs");
    const rss = () => Number(/VmRSS:\\s+(\\d+)/.exec(fs.readFileSync("/proc/self/status", "utf8"))[1]);
    const before = rss();
    const addon = require(${JSON.stringify(addonPath)});
    const grown = rss() - before;
    // VMAs with "hg" in VmFlags: their sizes, in KiB.
    let huge = 0, size = 0;
    for (const line of fs.readFileSync("/proc/self/smaps", "utf8").split("\\n")) {
      const m = /^Size:\\s+(\\d+) kB/.exec(line);
      if (m) size = Number(m[1]);
      if (line.startsWith("VmFlags:") && line.split(/\\s+/).includes("hg")) huge += size;
    }
    console.log(JSON.stringify({ hugeKiB: huge, rssGrowthKiB: grown }));
  `;
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const k of ["DESCENT_HUGE_HEAP", "DESCENT_KEEP_FREED_MEMORY"]) if (!(k in env)) delete childEnv[k];
  const r = spawnSync(process.execPath, ["-e", code], { env: childEnv, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim()) as { hugeKiB: number; rssGrowthKiB: number };
}

test("loading the addon marks a block of the heap for huge pages, as address space only", { skip }, () => {
  const on = probe({});
  // The 30 MiB block's 2 MiB-aligned part: at least 28 MiB, whole 2 MiB pages.
  assert.ok(on.hugeKiB >= 28 * 1024, `huge-page heap ${on.hugeKiB} KiB`);
  assert.equal(on.hugeKiB % 2048, 0);
  // Loading maps the addon's code; the reserved block itself is not touched (< 8 MiB all told).
  assert.ok(on.rssGrowthKiB < 8 * 1024, `resident memory grew by ${on.rssGrowthKiB} KiB on load`);
});

test("DESCENT_HUGE_HEAP=0 and DESCENT_KEEP_FREED_MEMORY=0 leave the heap as glibc grows it", { skip }, () => {
  assert.equal(probe({ DESCENT_HUGE_HEAP: "0" }).hugeKiB, 0);
  assert.equal(probe({ DESCENT_KEEP_FREED_MEMORY: "0" }).hugeKiB, 0);
});
