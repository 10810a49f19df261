// The fuzz harness (issue 11): `npm run fuzz -- --target safetensors|checkpoint|idx|csv|config|ops|all
// --n N --seed S [--workers W] [--timeout-ms 2000] [--rss-mb 1024]`, or `--replay target:seed:index`.
// Inputs go one at a time to a pool of long-lived worker processes (worker.ts); this process
// enforces the time limit (SIGKILL, "hang"), samples each worker's RSS ("memory" over the limit;
// V8 heap exhaustion under --max-old-space-size counts as memory too) and counts a worker that dies
// as a "crash", then starts a fresh one. Every input is rebuilt from (target, seed, index), so each
// finding prints the command that replays it. Exits 1 when any outcome is not accepted/DescentError.

import { fork, type ChildProcess } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Reply, Request } from "./worker.js";

const ALL = ["safetensors", "checkpoint", "idx", "csv", "config", "ops"];
const OUTCOMES = ["accepted", "DescentError", "exception", "mismatch", "crash", "hang", "memory"] as const;
type Outcome = (typeof OUTCOMES)[number];
const OK: readonly Outcome[] = ["accepted", "DescentError"];

interface Options {
  targets: string[];
  n: number;
  seed: number;
  workers: number;
  timeoutMs: number;
  rssMb: number;
  replay?: Request;
  show: number;
}

function usage(msg: string): never {
  console.error(`fuzz: ${msg}`);
  console.error(
    "usage: npm run fuzz -- --target <safetensors|checkpoint|idx|csv|config|ops|all>[,...] --n N --seed S [--workers W] [--timeout-ms MS] [--rss-mb MB] [--show K]\n       npm run fuzz -- --replay target:seed:index",
  );
  process.exit(2);
}

function parse(argv: string[]): Options {
  const o: Options = {
    targets: ALL,
    n: 1000,
    seed: 1,
    workers: Math.min(2, availableParallelism()),
    timeoutMs: 2000,
    rssMb: 1024,
    show: 20,
  };
  for (let i = 0; i < argv.length; i++) {
    const [k, v] = [argv[i]!, argv[i + 1]];
    const num = () => {
      const x = Number(v);
      if (!Number.isSafeInteger(x) || x < 0) usage(`${k}: expected a non-negative integer, got ${v}`);
      i++;
      return x;
    };
    if (k === "--target") {
      o.targets = v === "all" ? ALL : (v ?? "").split(",");
      // "selftest" (not in "all") makes every outcome class on purpose: test/fuzz/harness.test.ts.
      for (const t of o.targets) if (!ALL.includes(t) && t !== "selftest") usage(`--target: unknown target ${t}`);
      i++;
    } else if (k === "--n") o.n = num();
    else if (k === "--seed") o.seed = num();
    else if (k === "--workers") o.workers = Math.max(1, num());
    else if (k === "--timeout-ms") o.timeoutMs = num();
    else if (k === "--rss-mb") o.rssMb = num();
    else if (k === "--show") o.show = num();
    else if (k === "--replay") {
      const m = /^(\w+):(\d+):(\d+)$/.exec(v ?? "");
      if (!m || !(ALL.includes(m[1]!) || m[1] === "selftest")) usage(`--replay: expected target:seed:index, got ${v}`);
      o.replay = { target: m[1]!, seed: Number(m[2]), index: Number(m[3]) };
      i++;
    } else usage(`unknown option ${k}`);
  }
  return o;
}

interface Result {
  req: Request;
  outcome: Outcome;
  name?: string;
  message?: string;
  stack?: string;
  ms: number;
  rssMb: number;
}

const WORKER = join(dirname(fileURLToPath(import.meta.url)), "worker.ts");

/** One worker process and the input it is running. */
class Worker {
  proc: ChildProcess;
  ready: Promise<void>;
  stderr = "";
  /** The worker's temporary folder: removed here when the worker was killed (it cannot clean up then). */
  dir?: string;
  private pending?: { req: Request; done: (r: Result) => void; started: number; timer: NodeJS.Timeout; peak: number };
  private poll?: NodeJS.Timeout;

  constructor(
    private o: Options,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.proc = fork(WORKER, [], {
      execArgv: ["--import", "tsx", `--max-old-space-size=${Math.max(o.rssMb, 256)}`],
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      env,
    });
    this.proc.stderr!.on("data", (b: Buffer) => (this.stderr = (this.stderr + b.toString()).slice(-4000)));
    this.ready = new Promise((resolve, reject) => {
      this.proc.once("message", (m: { dir: string }) => {
        this.dir = m.dir;
        resolve();
      });
      this.proc.once("exit", (code, sig) =>
        reject(new Error(`worker exited (${code ?? sig}) before it was ready:\n${this.stderr}`)),
      );
    });
    this.proc.on("message", (m: Reply | { ready: true }) => {
      if ("ready" in m) return;
      const p = this.finish();
      if (!p) return;
      const rssMb = Math.max(p.peak, m.rss / 2 ** 20);
      const over = rssMb > this.o.rssMb;
      const slow = m.ms > this.o.timeoutMs;
      const outcome = over ? "memory" : slow ? "hang" : m.outcome;
      const why = over ? `RSS ${rssMb.toFixed(0)} MB` : `took ${m.ms.toFixed(0)} ms`;
      const message = outcome === m.outcome ? m.message : `${why} (then ${m.outcome}: ${m.message ?? ""})`;
      p.done({ req: p.req, outcome, name: m.name, message, stack: m.stack, ms: m.ms, rssMb });
    });
    this.proc.on("exit", (code, sig) => {
      if (sig && this.dir && env.DESCENT_FUZZ_KEEP !== "1") rmSync(this.dir, { recursive: true, force: true });
      const p = this.finish();
      if (!p) return;
      const oom = /heap out of memory|Allocation failed|Array buffer allocation failed/i.test(this.stderr);
      p.done({
        req: p.req,
        outcome: oom ? "memory" : "crash",
        message: `worker died (${sig ?? `exit code ${code}`}): ${this.stderr.trim().split("\n").slice(-6).join(" | ")}`,
        ms: performance.now() - p.started,
        rssMb: p.peak,
      });
    });
  }

  private finish() {
    const p = this.pending;
    if (!p) return undefined;
    clearTimeout(p.timer);
    clearInterval(this.poll);
    this.pending = undefined;
    return p;
  }

  /** The worker's resident set in MB, from /proc (0 where /proc is missing). */
  private rss(): number {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.proc.pid}/status`, "utf8"));
      return m ? Number(m[1]) / 1024 : 0;
    } catch {
      return 0;
    }
  }

  run(req: Request): Promise<Result> {
    return new Promise((done) => {
      const started = performance.now();
      const kill = (outcome: Outcome, message: string) => {
        const p = this.finish();
        if (!p) return;
        this.proc.kill("SIGKILL");
        done({ req, outcome, message, ms: performance.now() - started, rssMb: p.peak });
      };
      // The worker times the library call itself (over timeoutMs is a hang); this limit, five times
      // longer, also covers building the input and stops a call that never returns.
      const limit = 5 * this.o.timeoutMs;
      const timer = setTimeout(() => kill("hang", `no answer within ${limit} ms (killed)`), limit);
      this.pending = { req, done, started, timer, peak: 0 };
      this.poll = setInterval(() => {
        const mb = this.rss();
        if (this.pending) this.pending.peak = Math.max(this.pending.peak, mb);
        if (mb > this.o.rssMb) kill("memory", `RSS ${mb.toFixed(0)} MB passed the ${this.o.rssMb} MB limit`);
      }, 20);
      this.proc.send(req);
    });
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null && !this.proc.killed;
  }
}

async function runAll(o: Options, reqs: Request[], onResult: (r: Result) => void): Promise<void> {
  let next = 0;
  const lane = async () => {
    let w = new Worker(o);
    await w.ready;
    while (next < reqs.length) {
      const req = reqs[next++]!;
      const r = await w.run(req);
      onResult(r);
      if (!w.alive) {
        w = new Worker(o);
        await w.ready;
      }
    }
    w.proc.disconnect();
  };
  await Promise.all(Array.from({ length: o.workers }, lane));
}

function replayCmd(r: Request): string {
  return `npm run fuzz -- --replay ${r.target}:${r.seed}:${r.index}`;
}

async function main(): Promise<number> {
  const o = parse(process.argv.slice(2));
  if (o.replay) {
    const w = new Worker(o, { ...process.env, DESCENT_FUZZ_KEEP: "1" });
    await w.ready;
    const r = await w.run(o.replay);
    console.log(
      `${o.replay.target}:${o.replay.seed}:${o.replay.index}: ${r.outcome} in ${r.ms.toFixed(0)} ms, RSS ${r.rssMb.toFixed(0)} MB`,
    );
    if (r.message) console.log(`${r.name ?? ""}: ${r.message.slice(0, 1000)}`);
    if (r.stack)
      console.log(
        r.stack
          .split("\n")
          .filter((l) => l.startsWith("    at "))
          .join("\n"),
      );
    if (w.alive) w.proc.disconnect();
    console.log(`the input is kept in ${w.dir}`);
    return OK.includes(r.outcome) ? 0 : 1;
  }
  const t0 = performance.now();
  const findings: Result[] = [];
  // One row per target, printed as soon as it is done (long runs show progress).
  const head = ["target", "inputs", ...OUTCOMES, "max ms", "max RSS MB", "s"];
  const widths = head.map((h, j) => (j === 0 ? 11 : Math.max(h.length, 7)));
  const line = (r: string[]) => r.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join("  ");
  console.log(`fuzz: seed ${o.seed}, ${o.workers} worker(s), limits ${o.timeoutMs} ms and ${o.rssMb} MB per input`);
  console.log(line(head));
  for (const target of o.targets) {
    const counts = Object.fromEntries(OUTCOMES.map((k) => [k, 0])) as Record<Outcome, number>;
    let maxMs = 0;
    let maxRss = 0;
    const s = performance.now();
    const reqs = Array.from({ length: o.n }, (_, index) => ({ target, seed: o.seed, index }));
    await runAll(o, reqs, (r) => {
      counts[r.outcome]++;
      maxMs = Math.max(maxMs, r.ms);
      maxRss = Math.max(maxRss, r.rssMb);
      if (!OK.includes(r.outcome)) findings.push(r);
    });
    const row = [target, String(o.n), ...OUTCOMES.map((k) => String(counts[k])), maxMs.toFixed(0), maxRss.toFixed(0)];
    console.log(line([...row, ((performance.now() - s) / 1000).toFixed(1)]));
  }
  // Findings grouped by target, outcome and message shape (numbers and paths blurred), one replay each.
  const groups = new Map<string, Result[]>();
  for (const f of findings) {
    const shape = `${f.req.target} ${f.outcome} ${f.name ?? ""}: ${(f.message ?? "")
      .replace(/\/tmp\/\S+/g, "<path>")
      .replace(/-?\d[\d.e+-]*/g, "#")
      .slice(0, 160)}`;
    groups.set(shape, [...(groups.get(shape) ?? []), f]);
  }
  if (groups.size) console.log(`\n${findings.length} finding(s) in ${groups.size} group(s):`);
  [...groups.values()].slice(0, o.show).forEach((g) => {
    const f = g[0]!;
    console.log(`- ${f.req.target} ${f.outcome} ×${g.length}: ${f.name ?? ""} ${(f.message ?? "").slice(0, 300)}`);
    console.log(`    replay: ${replayCmd(f.req)}`);
  });
  if (groups.size > o.show) console.log(`  (${groups.size - o.show} more groups; --show ${groups.size} lists them)`);
  console.log(`\n${((performance.now() - t0) / 1000).toFixed(1)} s; ${findings.length ? "FAILED" : "passed"}`);
  return findings.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(2);
  },
);
