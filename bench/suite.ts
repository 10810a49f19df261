// The benchmark suite of issue 6: workloads W1–W6 (and issue 13's GPT rows W7, W8) run identically on Descent native (1 and 2
// threads), Descent js, TensorFlow.js (pure-JS cpu and wasm backends) and PyTorch (1 and 2
// threads, when /usr/bin/python3 has torch), measured in one run, printed as one table of medians
// with ratios. `npm run bench:suite -- [--quick] [--save | --out FILE] [--only w1,w3]
// [--systems native2,pt2,...] [--spawns N]`. Each (system, workload) runs in its own process
// (bench/suite/descent.ts, bench/suite/tfjs.ts, bench/pytorch_suite.py) under the same timing rule
// (bench/suite/measure.ts); workloads are the outer loop so that every system of a row is measured
// close together in time, which is what a shared, noisy machine allows.

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { loadAddon } from "../src/backends/native/index.js";
import { DEFAULT_BUDGET, median, type Budget } from "./suite/measure.js";
import { ONLY, ROWS, SYSTEMS, renderRaw, renderTable, type Cell, type SystemId } from "./suite/table.js";
import { measureWasmPeak, wasmPeakLine } from "./suite/wasm_peak.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PYTHON = "/usr/bin/python3";
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const option = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};

const quick = flag("--quick");
const budget: Budget = quick ? { ...DEFAULT_BUDGET, targetMs: 600, capMs: 4000, minSamples: 5 } : DEFAULT_BUDGET;
const SPAWNS = Number(option("--spawns") ?? (quick ? 3 : 7));
/** A worker still running after this long is killed and its cells reported as such. */
const WORKER_TIMEOUT_S = quick ? 90 : 240;
const WORKLOADS = (option("--only") ?? "w1,w2,w3,w3f,w4,w5,w6,w7,w8").split(",");
const wantedSystems = option("--systems")?.split(",");
const log = (s: string) => process.stderr.write(s + "\n");

// ---- Which systems can run here, and why not -------------------------------------------------

const notes: string[] = [];
const present = new Set<SystemId>();
const nativeLoad = loadAddon();
const require = createRequire(import.meta.url);
const resolves = (m: string) => {
  try {
    require.resolve(m);
    return true;
  } catch {
    return false;
  }
};
const torch = spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" });
for (const { id, label } of SYSTEMS) {
  if (wantedSystems && !wantedSystems.includes(id)) continue;
  let why: string | undefined;
  if (id.startsWith("native") && "error" in nativeLoad)
    why = `the addon did not load (${nativeLoad.error}); build it with \`node native/install.mjs\``;
  if (id === "native2" && os.availableParallelism() < 2) why = "this machine has one CPU";
  if (id === "wasm" && !fs.existsSync(path.join(ROOT, "wasm/descent.wasm")))
    why = "wasm/descent.wasm is missing; build it with `node wasm/build.mjs`";
  if (id.startsWith("tf") && !resolves(id === "tfwasm" ? "@tensorflow/tfjs-backend-wasm" : "@tensorflow/tfjs"))
    why = "the @tensorflow/tfjs dev dependencies are not installed (npm install)";
  if (id.startsWith("pt") && torch.status !== 0) why = `\`${PYTHON} -c 'import torch'\` failed`;
  if (id.startsWith("ort") && !resolves("onnxruntime-node"))
    why = "the onnxruntime-node dev dependency is not installed (npm install)";
  if (why) notes.push(`${label} skipped: ${why}.`);
  else present.add(id);
}

// ---- The machine's measured peak (native/probe.cc) -------------------------------------------

/** fp32 FMA-throughput peak at 1 and 2 threads (GFLOP/s), measured before the workloads; W1 is reported against it. */
const peak = new Map<number, number>();
let peakIsa = "";
/** What the GEMM chose here (native/gemm_tune.cc): caches read from cpuid, the tile and W1 1024's blocks. */
let gemmChoice = "";
if ("addon" in nativeLoad) {
  const tuning = (
    nativeLoad.addon as unknown as { gemmTuning?: (m: number, n: number, k: number) => Record<string, number | string> }
  ).gemmTuning;
  if (tuning) {
    const t = tuning(1024, 1024, 1024);
    const kib = (k: string) => `${Math.round((t[k] as number) / 1024)} KiB`;
    gemmChoice =
      `GEMM tuning (native/gemm_tune.cc): ${t["uarch"]}, L1d ${kib("l1d")}, L2 ${kib("l2")}, L3 ${kib("l3")} (${t["cacheSource"]}); ` +
      `tile ${t["mr"]}×${t["nr"]}, W1 1024 blocks KC ${t["kc"]}, MC ${t["mc"]} (2T: ${t["mc2"]}), NC ${t["nc"]}`;
  }
  const probe = (nativeLoad.addon as unknown as { fmaPeak?: (t: number) => { gflops: number; isa: string } }).fmaPeak;
  if (probe)
    for (const t of [1, 2]) {
      const r = probe(t);
      peak.set(t, r.gflops);
      peakIsa = r.isa;
    }
  else notes.push("Peak not measured: the addon predates fmaPeak (native/probe.cc); rebuild it.");
  if (peak.size === 2 && peak.get(2)! < 1.5 * peak.get(1)!)
    notes.push(
      "The 2T peak is under 1.5× the 1T peak: the second CPU was busy with other processes during the probe, so the " +
        "2T peak (and the 2T shares of it) are a floor, not the machine's.",
    );
}

/** The SIMD128 peak of one thread (wasm/probe.c), when Descent wasm runs: W1-wasm is reported against it. */
const peakWasm = present.has("wasm") ? measureWasmPeak() : undefined;

// ---- Running workers -------------------------------------------------------------------------

const results = new Map<SystemId, Map<string, Cell>>(SYSTEMS.map((s) => [s.id, new Map()]));
const infos = new Map<SystemId, Record<string, string | number | boolean>>();

/** PyTorch's environment: OpenBLAS chooses its own kernels (AVX-512 too) and uses `threads` threads. */
function pythonEnv(threads: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OMP_NUM_THREADS: String(threads),
    OPENBLAS_NUM_THREADS: String(threads),
    PYTHONDONTWRITEBYTECODE: "1",
  };
  delete env["OPENBLAS_CORETYPE"];
  delete env["OPENBLAS_L2_SIZE"];
  return env;
}

function workerCommand(id: SystemId, w: string): { args: string[]; cmd: string; env: NodeJS.ProcessEnv } {
  const b = ["--budget", JSON.stringify(budget)];
  const tsx = ["--import", "tsx"];
  switch (id) {
    case "native1":
    case "native2":
    case "js":
    case "wasm": {
      const threads = id === "native2" ? "2" : "1"; // Descent wasm: one thread, as TF.js wasm here
      const env = { ...process.env, DESCENT_BACKEND: id === "js" || id === "wasm" ? id : "native" };
      return { cmd: process.execPath, args: [...tsx, "bench/suite/descent.ts", w, "--threads", threads, ...b], env };
    }
    case "tfcpu":
    case "tfwasm": {
      const backend = id === "tfcpu" ? "cpu" : "wasm";
      return {
        cmd: process.execPath,
        args: [...tsx, "bench/suite/tfjs.ts", w, "--backend", backend, ...b],
        env: process.env,
      };
    }
    case "pt1":
    case "pt2": {
      const t = id === "pt1" ? 1 : 2;
      return { cmd: PYTHON, args: ["bench/pytorch_suite.py", w, "--threads", String(t), ...b], env: pythonEnv(t) };
    }
    case "ort1":
    case "ort2": {
      const t = id === "ort1" ? "1" : "2";
      return { cmd: process.execPath, args: [...tsx, "bench/suite/ort.ts", w, "--threads", t, ...b], env: process.env };
    }
  }
}

const keysOf = (w: string) => ROWS.filter((r) => r.key === w || r.key.startsWith(`${w}.`)).map((r) => r.key);
const label = (id: SystemId) => SYSTEMS.find((s) => s.id === id)!.label;

function runWorker(id: SystemId, w: string): void {
  const { cmd, args, env } = workerCommand(id, w);
  const t0 = performance.now();
  const r = spawnSync(cmd, args, {
    cwd: ROOT,
    env,
    encoding: "utf8",
    timeout: WORKER_TIMEOUT_S * 1000,
    maxBuffer: 64 << 20,
  });
  const took = (performance.now() - t0) / 1000;
  const cells = results.get(id)!;
  for (const line of (r.stdout ?? "").split("\n")) {
    const m = /^@@(cell|skip|info) (.*)$/.exec(line);
    if (!m) continue;
    const obj = JSON.parse(m[2]!) as Record<string, string | number | boolean>;
    if (m[1] === "info") infos.set(id, { ...infos.get(id), ...obj });
    else if (m[1] === "skip") cells.set(String(obj["key"]), { skip: String(obj["why"]) });
    else cells.set(String(obj["key"]), obj as Cell);
  }
  const lastErr = (r.stderr ?? "").trim().split("\n").pop()?.slice(0, 160) ?? "";
  const killed = r.signal !== null || (r.error as NodeJS.ErrnoException | undefined)?.code === "ETIMEDOUT";
  for (const key of keysOf(w)) {
    if (cells.has(key)) continue;
    cells.set(key, {
      skip: killed ? `still running after ${WORKER_TIMEOUT_S} s (time cap), killed` : `failed: ${lastErr}`,
    });
  }
  const summary = keysOf(w)
    .map((k) => {
      const c = cells.get(k)!;
      return c.skip !== undefined ? `${k} n/a` : `${k} ${(c.sec! * 1e3).toPrecision(3)} ms/call (n=${c.n})`;
    })
    .join(", ");
  log(`  ${label(id).padEnd(18)} ${summary}  [${took.toFixed(1)} s]`);
}

// ---- W6: fresh processes ---------------------------------------------------------------------

/** Builds dist/ when it is missing or older than src/ (W6 imports the compiled package). */
function ensureDist(): string | undefined {
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...fs.readdirSync(dir, { withFileTypes: true }).map((e) => {
        const p = path.join(dir, e.name);
        return e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs;
      }),
    );
  const built = path.join(ROOT, "dist/index.js");
  if (fs.existsSync(built) && fs.statSync(built).mtimeMs >= newest(path.join(ROOT, "src"))) return undefined;
  log("dist/ is missing or older than src/: npm run build");
  const r = spawnSync("npm", ["run", "build"], { cwd: ROOT, encoding: "utf8" });
  return r.status === 0 ? undefined : `npm run build failed: ${(r.stdout + r.stderr).trim().split("\n").pop()}`;
}

function w6Command(id: SystemId): { cmd: string; args: string[]; env: NodeJS.ProcessEnv } | undefined {
  const node = process.execPath;
  if (id === "native2" || id === "js")
    return {
      cmd: node,
      args: ["bench/suite/w6_descent.mjs"],
      env: { ...process.env, DESCENT_BACKEND: id === "js" ? "js" : "native" },
    };
  if (id === "tfcpu" || id === "tfwasm")
    return { cmd: node, args: ["bench/suite/w6_tfjs.mjs", id === "tfcpu" ? "cpu" : "wasm"], env: process.env };
  if (id === "pt2") return { cmd: PYTHON, args: ["bench/pytorch_suite.py", "w6", "--threads", "2"], env: pythonEnv(2) };
  return undefined; // 1T columns: start-up does not depend on the thread count
}

/** Node's own start (`node -e 0`, nothing imported), spawned in W6's rounds: the floor under every Node system's W6. */
let nodeFloor: number[] = [];

function runW6(): void {
  const distError = ensureDist();
  const ids = [...present].filter((id) => w6Command(id));
  const times = new Map<SystemId, number[]>(ids.map((id) => [id, []]));
  const failed = new Map<SystemId, string>();
  nodeFloor = [];
  // Round 0 is an untimed warm-up (file cache); systems are interleaved in every round.
  for (let round = 0; round <= SPAWNS; round++) {
    const f0 = performance.now();
    spawnSync(process.execPath, ["-e", "0"], { cwd: ROOT });
    if (round > 0) nodeFloor.push((performance.now() - f0) / 1000);
    for (const id of ids) {
      if (failed.has(id)) continue;
      if (distError && (id === "native2" || id === "js")) {
        failed.set(id, distError);
        continue;
      }
      const { cmd, args, env } = w6Command(id)!;
      const t0 = performance.now();
      const r = spawnSync(cmd, args, { cwd: ROOT, env, encoding: "utf8", timeout: 120_000 });
      const sec = (performance.now() - t0) / 1000;
      if (r.status !== 0) failed.set(id, `failed: ${(r.stderr ?? "").trim().split("\n").pop()?.slice(0, 160)}`);
      else if (round > 0) times.get(id)!.push(sec);
    }
  }
  for (const id of ids) {
    const t = times.get(id)!;
    const cell: Cell = failed.has(id)
      ? { skip: failed.get(id)! }
      : { sec: median(t), n: t.length, inner: 1, min: Math.min(...t), max: Math.max(...t), cold: false };
    results.get(id)!.set("w6", cell);
    log(`  ${label(id).padEnd(18)} ${cell.skip ?? `${cell.sec!.toFixed(3)} s (n=${cell.n})`}`);
  }
}

// ---- Main ------------------------------------------------------------------------------------

const started = new Date();
const load0 = os.loadavg()[0]!;
log(`Descent benchmark suite: ${[...present].map(label).join(", ")}; workloads ${WORKLOADS.join(", ")}`);
WORKLOADS.forEach((w, i) => {
  log(`[${w.toUpperCase()}]`);
  if (w === "w6") return runW6();
  // Alternate the order of systems between workloads, so none is always measured first.
  const order = SYSTEMS.map((s) => s.id).filter((id) => present.has(id) && (ONLY[id]?.includes(w) ?? true));
  for (const id of i % 2 === 0 ? order : order.reverse()) runWorker(id, w);
});
const load1 = os.loadavg()[0]!;
const minutes = (Date.now() - started.getTime()) / 60000;

function git(args: string[]): string {
  const r = spawnSync("git", args, { cwd: ROOT, encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : "";
}

function cpuFacts(): string {
  const text = fs.existsSync("/proc/cpuinfo") ? fs.readFileSync("/proc/cpuinfo", "utf8") : "";
  const flags = new Set(/^flags\s*:\s*(.*)$/m.exec(text)?.[1]?.split(" ") ?? []);
  const isa = ["avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx2", "fma"].filter((f) =>
    flags.has(f),
  );
  return `${os.cpus()[0]?.model ?? "unknown CPU"}, ${os.availableParallelism()} CPUs, ISA: ${isa.join(" ") || "?"}`;
}

/** The CPU as /proc/cpuinfo names it: vendor, family, model, stepping (family 26 on AMD is Zen 5). */
function cpuId(): string {
  const text = fs.existsSync("/proc/cpuinfo") ? fs.readFileSync("/proc/cpuinfo", "utf8") : "";
  const field = (k: string) => new RegExp(`^${k}\\s*:\\s*(.*)$`, "m").exec(text)?.[1]?.trim() ?? "?";
  const [vendor, family] = [field("vendor_id"), Number(field("cpu family"))];
  const zen: Record<number, string> = { 23: "Zen/Zen 2", 25: "Zen 3/Zen 4", 26: "Zen 5" };
  const arch = vendor === "AuthenticAMD" && zen[family] ? ` (${zen[family]})` : "";
  return `${field("model name")}: ${vendor} family ${family}${arch}, model ${field("model")}, stepping ${field("stepping")}`;
}

/** The peak line: the probe's figures and W1's GEMM as a share of them (native 1T of the 1T peak, 2T of 2T). */
function peakLine(): string {
  if (peak.size === 0) return "Peak: not measured (the native addon did not load)";
  const p1 = peak.get(1)!;
  const p2 = peak.get(2)!;
  const shares = ROWS.filter((r) => r.key.startsWith("w1."))
    .map((r) => {
      const pct = (id: SystemId, p: number) => {
        const c = results.get(id)!.get(r.key);
        return c?.sec !== undefined ? `${((100 * r.value(c.sec)) / p).toFixed(0)}%` : "—";
      };
      return `${r.key.slice(3)}: 1T ${pct("native1", p1)}, 2T ${pct("native2", p2)}`;
    })
    .filter((s) => !s.endsWith("1T —, 2T —"));
  return (
    `Peak (fp32 FMA-throughput probe, native/probe.cc, ${peakIsa}, best of 40 short runs): ` +
    `1T ${p1.toFixed(0)} GFLOP/s, 2T ${p2.toFixed(0)} GFLOP/s` +
    (shares.length ? `; W1 GEMM as a share of it (native nT ÷ nT peak): ${shares.join("; ")}` : "")
  );
}

function blasAlternative(): string {
  const link = "/etc/alternatives/libblas.so.3-x86_64-linux-gnu";
  try {
    return `${link} → ${fs.realpathSync(link)}`;
  } catch {
    return `${link} absent`;
  }
}

const nat = infos.get("native2") ?? infos.get("native1");
const tfw = infos.get("tfwasm") ?? infos.get("tfcpu");
const pt = infos.get("pt1") ?? infos.get("pt2");
const ort = infos.get("ort1") ?? infos.get("ort2");
const dirty = git(["status", "--porcelain", "--untracked-files=no"]) !== "";
const header = [
  `Descent benchmark suite (issue 6), ${started.toISOString().slice(0, 16).replace("T", " ")} UTC, ` +
    `commit ${git(["rev-parse", "--short", "HEAD"]) || "?"}${dirty ? " + uncommitted changes" : ""}, ` +
    `${minutes.toFixed(1)} min${quick ? " (--quick)" : ""}`,
  `CPU: ${cpuFacts()}; 1-min load average ${load0.toFixed(2)} at start, ${load1.toFixed(2)} at end` +
    (Math.max(load0, load1) > 0.5 ? " (other processes were using the CPUs: expect noise)" : ""),
  `CPU id (/proc/cpuinfo): ${cpuId()}`,
  peakLine(),
  ...(peakWasm !== undefined ? [wasmPeakLine(peakWasm, ROWS, (id, key) => results.get(id)?.get(key)?.sec)] : []),
  ...(gemmChoice ? [gemmChoice] : []),
  `Node ${process.version}; Descent native: ${nat ? `ISA ${nat["isa"]}` : "not run"}; ` +
    `TF.js ${tfw?.["version"] ?? "not run"}${infos.get("tfwasm") ? ` (wasm: ${infos.get("tfwasm")!["isa"]})` : ""}; ` +
    `ONNX Runtime ${ort?.["version"] ?? "not run"}`,
  pt
    ? `PyTorch ${pt["version"]}; BLAS in use: ${pt["blas"]}; ${blasAlternative()}; ` +
      "run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = threads"
    : "PyTorch: not run",
];

const skipped: string[] = [];
for (const s of SYSTEMS)
  for (const [key, c] of results.get(s.id) ?? [])
    if (c.skip !== undefined) skipped.push(`${s.label} ${key}: ${c.skip}`);

// Two threads much slower than one means the second thread waited for a CPU that another process
// held: say so, since such a run's 2T figures (and the ratios built on them) are not the system's.
for (const [one, two] of [
  ["native1", "native2"],
  ["pt1", "pt2"],
] as const) {
  const rows = ROWS.filter((r) => {
    const [a, b] = [results.get(one)!.get(r.key), results.get(two)!.get(r.key)];
    return a?.sec !== undefined && b?.sec !== undefined && b.sec > 1.5 * a.sec;
  });
  if (rows.length)
    notes.push(
      `${label(two)} was over 1.5× slower than ${label(one)} on ${rows.map((r) => r.key).join(", ")}: ` +
        "its second thread waited for a CPU other processes held; treat those 2T figures and ratios with care.",
    );
}

const explain = [
  `Cells are medians. Per cell: warm-up, then samples of ≥ ${budget.sampleMs} ms (back-to-back calls averaged, so ` +
    `garbage collection is included), until ≥ ${budget.minSamples} samples and ${budget.targetMs / 1000} s, ` +
    `or ${budget.capMs / 1000} s at most. "(n=k)" marks cells with fewer than 5 samples (very slow systems); ` +
    `"(1 cold step)": one call took longer than the ${budget.capMs / 1000} s cap, so it is the only sample, with no warm-up.`,
  "Ratio columns are time ratios per call, time(system) ÷ time(reference), for every metric (GFLOP/s and " +
    "samples/s included): < 1 means the system is faster than the reference. PT = PyTorch.",
  "Threads: Descent native nT = the addon's pool set to n threads (2T is its default); Descent js and TF.js are " +
    "single-threaded; PyTorch nT = torch.set_num_threads(n) with OMP/OpenBLAS at n threads.",
  `W6: wall time from spawn to exit of a fresh process (Descent: node bench/suite/w6_descent.mjs on the compiled ` +
    `dist/; TF.js: bench/suite/w6_tfjs.mjs; PyTorch: bench/pytorch_suite.py w6), median of ${SPAWNS} spawns after ` +
    "one untimed round; default threads only (2T columns)." +
    (nodeFloor.length
      ? ` Node's own start in the same rounds (\`node -e 0\`, nothing imported): ${median(nodeFloor).toFixed(3)} s median.`
      : ""),
  "Target/Met: issue 6's targets, judged on Descent native 2T (the default; W1 on both 1T and 2T); the W2/W4 " +
    "targets on the faster of PyTorch 1T/2T. Identical work on every system: same shapes, loss and optimizer " +
    "(Adam, lr 1e-3), the loss read back every step; each library's own layouts (TF.js NHWC, batch-major LSTM " +
    "with sigmoid gates) and default initialisation; W5 runs without autograd (Descent through compile(), its " +
    "serving path, as predict() uses it; PyTorch no_grad; TF.js apply); W3f likewise.",
  ...(present.has("ort1") || present.has("ort2")
    ? [
        "ONNX Runtime nT: onnxruntime-node (CPU provider, intraOpNumThreads = n, interOpNumThreads = 1, other options " +
          "its defaults) running Descent's own model written by onnx.export (the same weights), its output checked against " +
          "Descent's on the benchmark input first (a mismatch fails the cell); cells time the binding's synchronous run(), " +
          "which the public `await session.run()` calls after a setImmediate" +
          (ort?.["asyncRunB1Us"] !== undefined
            ? ` (that public call took ${ort["asyncRunB1Us"]} µs at W5 batch 1).`
            : "."),
      ]
    : []),
  ...(WORKLOADS.includes("w3f")
    ? ["W3f: W3's CNN, inference forward only (eval mode, no autograd; TF.js apply with training false), batch 64."]
    : []),
  ...notes,
  ...(skipped.length ? ["Not measured:", ...skipped.map((s) => `  - ${s}`)] : []),
];

const table = renderTable(results, present);
console.log([...header, "", table, "", ...explain].join("\n"));

const outPath =
  option("--out") ?? (flag("--save") ? `bench/results/suite-${started.toISOString().slice(0, 10)}.md` : "");
if (outPath) {
  const file = path.resolve(ROOT, outPath);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const cmdLine = `npm run bench:suite --${argv.length ? " " + argv.join(" ") : ""}`;
  const md = [
    `# Benchmark suite, ${started.toISOString().slice(0, 10)}`,
    "",
    ...header.map((h) => h + "  "),
    "",
    table,
    "",
    ...explain.map((e) => (e.startsWith("  - ") ? e.slice(2) : `${e}\n`)),
    "",
    `Command: \`${cmdLine}\``,
    "",
    "## Raw cells",
    "",
    renderRaw(results),
    "",
  ].join("\n");
  fs.writeFileSync(file, md);
  log(`wrote ${path.relative(ROOT, file)}`);
}
