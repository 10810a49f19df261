// The timing rule every JavaScript worker of the benchmark suite (bench/suite.ts) follows, and the
// line protocol it answers the suite with. bench/pytorch_suite.py implements the same rule in
// Python; keep the two in step so every system is measured the same way.
//
// Rule: warm up (at least 2 calls and 0.3 s; a single call if it alone takes a quarter of the cap);
// a first call that alone took the whole cap is reported as the only sample ("cold", n = 1: very
// slow systems). Otherwise collect samples, each the mean of enough back-to-back calls to last
// sampleMs (so timer resolution does not matter and garbage collection is paid inside the samples,
// as a user pays it), until there are minSamples samples and targetMs has passed, or maxSamples
// samples, or the cap has passed. The reported figure is the median sample.

/** Limits the suite passes to every worker (argv `--budget <json>`). */
export interface Budget {
  /** Each sample lasts at least this long. */
  sampleMs: number;
  /** Measure at least this long (once minSamples samples exist). */
  targetMs: number;
  /** Stop measuring after this long even with fewer than minSamples (for very slow systems). */
  capMs: number;
  minSamples: number;
  maxSamples: number;
}

export const DEFAULT_BUDGET: Budget = { sampleMs: 20, targetMs: 2000, capMs: 10000, minSamples: 7, maxSamples: 60 };

/** One measured cell: seconds per call (median sample) and how it was obtained. */
export interface Measurement {
  /** Median seconds per call. */
  sec: number;
  /** Number of samples. */
  n: number;
  /** Calls per sample. */
  inner: number;
  /** Spread: fastest and slowest sample, seconds per call. */
  min: number;
  max: number;
  /** True when the only sample is the first call (it took the whole cap): no warm-up. */
  cold: boolean;
}

const now = (): number => performance.now();

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Measures `fn` under the budget's rule (see the header). */
export function measure(fn: () => void, budget: Budget): Measurement {
  // Warm-up; it also gives the first estimate of a call's cost.
  const w0 = now();
  let calls = 0;
  while (calls < 2 || now() - w0 < 300) {
    fn();
    calls++;
    if (now() - w0 >= budget.capMs / 4) break;
  }
  const perCall = (now() - w0) / calls;
  if (calls === 1 && perCall >= budget.capMs) {
    const s = perCall / 1000;
    return { sec: s, n: 1, inner: 1, min: s, max: s, cold: true };
  }
  const inner = Math.max(1, Math.ceil(budget.sampleMs / Math.max(perCall, 1e-6)));
  const samples: number[] = [];
  const m0 = now();
  for (;;) {
    const t0 = now();
    for (let i = 0; i < inner; i++) fn();
    samples.push((now() - t0) / inner / 1000);
    const spent = now() - m0;
    const n = samples.length;
    if (n >= budget.maxSamples) break;
    if (n >= budget.minSamples && spent >= budget.targetMs) break;
    if (spent >= budget.capMs) break;
  }
  const [min, max] = [Math.min(...samples), Math.max(...samples)];
  return { sec: median(samples), n: samples.length, inner, min, max, cold: false };
}

/** measure() for a call that returns a promise (ONNX Runtime's public run): the same rule, awaiting each call. */
export async function measureAsync(fn: () => Promise<unknown>, budget: Budget): Promise<Measurement> {
  const w0 = now();
  let calls = 0;
  while (calls < 2 || now() - w0 < 300) {
    await fn();
    calls++;
    if (now() - w0 >= budget.capMs / 4) break;
  }
  const perCall = (now() - w0) / calls;
  const inner = Math.max(1, Math.ceil(budget.sampleMs / Math.max(perCall, 1e-6)));
  const samples: number[] = [];
  const m0 = now();
  for (;;) {
    const t0 = now();
    for (let i = 0; i < inner; i++) await fn();
    samples.push((now() - t0) / inner / 1000);
    const n = samples.length;
    const spent = now() - m0;
    if (n >= budget.maxSamples || (n >= budget.minSamples && spent >= budget.targetMs) || spent >= budget.capMs) break;
  }
  return {
    sec: median(samples),
    n: samples.length,
    inner,
    min: Math.min(...samples),
    max: Math.max(...samples),
    cold: false,
  };
}

/** Reads `--budget <json>` from argv (the suite always passes it); defaults otherwise. */
export function budgetFromArgv(argv: readonly string[]): Budget {
  const i = argv.indexOf("--budget");
  return i >= 0 && argv[i + 1]
    ? { ...DEFAULT_BUDGET, ...(JSON.parse(argv[i + 1]!) as Partial<Budget>) }
    : DEFAULT_BUDGET;
}

/** What a worker prints for the suite: one line per cell, `@@cell <json>`, plus `@@info` lines. */
export function emitCell(key: string, m: Measurement): void {
  console.log(`@@cell ${JSON.stringify({ key, ...m })}`);
}

/** Measures one cell and prints it, or prints `@@skip` with the reason when the system cannot run it. */
export function cell(key: string, fn: () => void, budget: Budget): void {
  let m: Measurement;
  try {
    m = measure(fn, budget);
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).split("\n")[0]!.slice(0, 160);
    console.log(`@@skip ${JSON.stringify({ key, why })}`);
    return;
  }
  emitCell(key, m);
}

export function emitInfo(info: Record<string, string | number | boolean>): void {
  console.log(`@@info ${JSON.stringify(info)}`);
}

/** Deterministic values in [-1, 1) for inputs, so no system's random generator is on the clock. */
export function filledArray(n: number, seed = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (((i + seed) * 7919) % 2003) / 1001.5 - 1;
  return a;
}

/** Class labels 0..9 for `n` samples. */
export function labels(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = (i * 7) % 10;
  return a;
}
