// The suite's wasm peak line: what one thread gets from SIMD128 here (wasm/probe.c through
// src/backends/wasm/probe.ts, best of 200 short runs, measured in the suite's own process before
// the workloads), W1's Descent-wasm GEMM as a share of it, and the ratio to TF.js wasm beside it,
// so "1.5× TF.js" can be read against what any SIMD128 kernel could reach on this core.

import { readWasm } from "../../src/backends/wasm/index.js";
import { wasmPeak } from "../../src/backends/wasm/probe.js";
import type { Row } from "./table.js";

/** GFLOP/s of the wasm probe, or the reason it was not measured. */
export function measureWasmPeak(): number | string {
  const r = readWasm();
  return "module" in r ? wasmPeak(r.module) : `wasm/descent.wasm did not load (${r.error})`;
}

/** The line for the header; `sec(system, key)` reads a measured cell (seconds per call) or undefined. */
export function wasmPeakLine(
  peak: number | string,
  rows: readonly Row[],
  sec: (id: "wasm" | "tfwasm", key: string) => number | undefined,
): string {
  if (typeof peak === "string") return `Wasm peak: not measured (${peak})`;
  const shares = rows
    .filter((r) => r.key.startsWith("w1."))
    .flatMap((r) => {
      const [d, t] = [sec("wasm", r.key), sec("tfwasm", r.key)];
      if (d === undefined) return [];
      const vs = t !== undefined ? `, ${(t / d).toFixed(2)}× TF.js wasm's ${r.value(t).toFixed(1)}` : "";
      return [`${r.key.slice(3)}: ${r.value(d).toFixed(1)} GFLOP/s = ${((100 * r.value(d)) / peak).toFixed(0)}%${vs}`];
    });
  return (
    `Wasm peak (SIMD128 mul+add probe, wasm/probe.c, 1T, best of 200 short runs): ${peak.toFixed(1)} GFLOP/s` +
    (shares.length ? `; W1 Descent wasm 1T as a share of it: ${shares.join("; ")}` : "")
  );
}
