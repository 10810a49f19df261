// The fuzz harness itself (scripts/fuzz, issue 11): inputs are rebuilt exactly from (target, seed,
// index), so a reported seed replays; and the pool classifies each outcome (accepted, DescentError,
// other exception, hang, crash, memory blow-up), replacing a worker it had to kill, and exits 1.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../scripts/fuzz/rng.js";
import { fuzzSafetensors } from "../../scripts/fuzz/targets/files.js";
import { fuzzCsv, fuzzIdx } from "../../scripts/fuzz/targets/data.js";

test("fuzz inputs are a function of (target, seed, index) alone", () => {
  const dirs = [mkdtempSync(join(tmpdir(), "fz-a-")), mkdtempSync(join(tmpdir(), "fz-b-"))];
  try {
    for (const [name, gen] of [
      ["safetensors", fuzzSafetensors],
      ["idx", fuzzIdx],
      ["csv", fuzzCsv],
    ] as const) {
      const files = (dir: string, order: number[]) =>
        order.map((i) => {
          gen(Rng.forInput(name, 5, i), dir);
          const f = readdirSync(dir).find((x) => x.startsWith("input"))!;
          const bytes = readFileSync(join(dir, f));
          rmSync(join(dir, f));
          return [i, bytes.toString("base64")] as const;
        });
      // Another order in another folder: the bytes of each index are the same.
      const a = new Map(files(dirs[0]!, [0, 1, 2, 3, 4, 5]));
      const b = new Map(files(dirs[1]!, [5, 3, 1, 4, 2, 0]));
      for (const [i, bytes] of a) assert.equal(b.get(i), bytes, `${name} input ${i}`);
      assert.ok(new Set(a.values()).size > 1, `${name}: inputs differ from each other`);
    }
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
});

function fuzz(...args: string[]): { status: number | null; out: string; row: string[] } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/fuzz/main.ts", ...args], {
    encoding: "utf8",
    timeout: 120_000,
  });
  const out = r.stdout + r.stderr;
  const row = r.stdout.split("\n").find((l) => l.startsWith("selftest ")) ?? "";
  return { status: r.status, out, row: row.trim().split(/\s+/) };
}

test("the pool classifies every outcome, replaces dead workers and exits 1 on findings", () => {
  // Inputs 0-4 of the selftest target: accepted, DescentError, TypeError, 1.2 s busy (limit 1 s), SIGSEGV.
  const r = fuzz("--target", "selftest", "--n", "5", "--timeout-ms", "1000");
  assert.equal(r.status, 1, r.out);
  // inputs, accepted, DescentError, exception, mismatch, crash, hang, memory
  assert.deepEqual(r.row.slice(1, 9), ["5", "1", "1", "1", "0", "1", "1", "0"], r.out);
  assert.match(r.out, /replay: npm run fuzz -- --replay selftest:1:3/);
  // RSS over the limit is a memory blow-up even when the input itself was accepted.
  const m = fuzz("--replay", "selftest:1:0", "--rss-mb", "1");
  assert.equal(m.status, 1, m.out);
  assert.match(m.out, /selftest:1:0: memory/);
  assert.equal(fuzz("--replay", "selftest:1:1").status, 0, "a DescentError is an accepted outcome");
});
