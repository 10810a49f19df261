// A long-lived fuzz worker (forked by scripts/fuzz/main.ts): takes one input at a time by message,
// {target, seed, index}, rebuilds it from its seed, runs it and answers with the outcome class,
// the error's name and message, the milliseconds the library call took (building the input is not
// counted) and the process's RSS. The parent judges hangs, crashes and memory blow-ups, and kills
// and replaces a worker that stops answering.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescentError, manualSeed, setBackend } from "../../src/index.js";
import { backend } from "../../src/backends/index.js";
import { CliError } from "../../src/cli/config.js";
import { Rng } from "./rng.js";
import { fuzzCheckpoint, fuzzSafetensors } from "./targets/files.js";
import { fuzzCsv, fuzzIdx } from "./targets/data.js";
import { fuzzConfig } from "./targets/config.js";
import { FuzzMismatch, fuzzOps } from "./targets/ops.js";

export interface Request {
  target: string;
  seed: number;
  index: number;
}

export interface Reply {
  outcome: "accepted" | "DescentError" | "exception" | "mismatch";
  name?: string;
  message?: string;
  stack?: string;
  ms: number;
  rss: number;
}

/** Each target builds its input (untimed) and returns the library call to time. */
const TARGETS: Record<string, (rng: Rng, dir: string) => () => void> = {
  safetensors: fuzzSafetensors,
  checkpoint: fuzzCheckpoint,
  idx: fuzzIdx,
  csv: fuzzCsv,
  config: fuzzConfig,
  ops: fuzzOps,
};

/**
 * Target `selftest` (for test/fuzz/harness.test.ts, which runs it with --timeout-ms 1000): input
 * i % 6 is accepted, a DescentError, another exception, 1.2 s of busy work, a crash (SIGSEGV) or
 * a growth to 340 MB of RSS (a memory blow-up under --rss-mb 320).
 */
function selftest(index: number): () => () => void {
  const calls: (() => void)[] = [
    () => {},
    () => {
      throw new DescentError("selftest: refused");
    },
    () => {
      throw new TypeError("selftest: not a DescentError");
    },
    () => {
      const end = performance.now() + 1200;
      while (performance.now() < end);
    },
    () => process.kill(process.pid, "SIGSEGV"),
    () => {
      const held: Uint8Array[] = [];
      while (process.memoryUsage().rss < 340 * 2 ** 20) held.push(new Uint8Array(16 * 2 ** 20).fill(1));
    },
  ];
  return () => calls[index % calls.length]!;
}

const defaultBackend = backend().name;
const dir = mkdtempSync(join(tmpdir(), "descent-fuzz-"));
const keep = process.env.DESCENT_FUZZ_KEEP === "1";
const cleanup = () => {
  if (!keep) rmSync(dir, { recursive: true, force: true });
};
process.on("exit", cleanup);
process.on("disconnect", () => process.exit(0));

function classify(e: unknown): Omit<Reply, "ms" | "rss"> {
  const err = e instanceof Error ? e : new Error(String(e));
  const outcome =
    e instanceof FuzzMismatch
      ? "mismatch"
      : e instanceof DescentError || e instanceof CliError
        ? "DescentError"
        : "exception";
  return { outcome, name: err.name, message: err.message.slice(0, 2000), stack: err.stack?.slice(0, 4000) };
}

process.on("message", (req: Request) => {
  const run = req.target === "selftest" ? selftest(req.index) : TARGETS[req.target];
  let t0 = performance.now();
  let r: Omit<Reply, "ms" | "rss">;
  try {
    if (!run) throw new Error(`unknown target ${req.target}`);
    // No state carries from one input to the next: the default backend and a fixed seed each time.
    setBackend(defaultBackend);
    manualSeed(0);
    const call = run(Rng.forInput(req.target, req.seed, req.index), dir);
    t0 = performance.now();
    call();
    r = { outcome: "accepted" };
  } catch (e) {
    r = classify(e);
  }
  const reply: Reply = { ...r, ms: performance.now() - t0, rss: process.memoryUsage().rss };
  process.send!(reply);
});

process.send!({ ready: true, dir });
