// The benchmark suite's one table (bench/suite.ts): rows per workload metric, a column per system,
// ratio columns and issue 6's targets. Pure formatting of measured cells; no timing here.

/** One measured cell (seconds per call, from a worker's `@@cell`), or why it is missing. */
export interface Cell {
  sec?: number;
  n?: number;
  inner?: number;
  min?: number;
  max?: number;
  cold?: boolean;
  skip?: string;
}

export type SystemId = "native1" | "native2" | "js" | "wasm" | "tfcpu" | "tfwasm" | "pt1" | "pt2" | "ort1" | "ort2";

export const SYSTEMS: { id: SystemId; label: string }[] = [
  { id: "native1", label: "Descent native 1T" },
  { id: "native2", label: "Descent native 2T" },
  { id: "js", label: "Descent js" },
  { id: "wasm", label: "Descent wasm" },
  { id: "tfcpu", label: "TF.js cpu" },
  { id: "tfwasm", label: "TF.js wasm" },
  { id: "pt1", label: "PyTorch 1T" },
  { id: "pt2", label: "PyTorch 2T" },
  // Inference only (W5, W3f), on Descent's own weights exported with onnx.export (bench/suite/ort.ts).
  { id: "ort1", label: "ONNX Runtime 1T" },
  { id: "ort2", label: "ONNX Runtime 2T" },
];

/** Systems that run only some workloads (the others are not spawned for the rest). */
export const ONLY: Partial<Record<SystemId, readonly string[]>> = { ort1: ["w5", "w3f"], ort2: ["w5", "w3f"] };

/** Ratio columns: time(system) ÷ time(reference), the same for every metric (all are per call). */
export const RATIOS: { sys: SystemId; ref: SystemId; label: string }[] = [
  { sys: "native1", ref: "pt1", label: "native 1T ÷ PT 1T" },
  { sys: "native2", ref: "pt2", label: "native 2T ÷ PT 2T" },
  { sys: "js", ref: "pt1", label: "js ÷ PT 1T" },
  { sys: "tfwasm", ref: "pt1", label: "TF wasm ÷ PT 1T" },
  { sys: "native2", ref: "js", label: "native 2T ÷ js" },
  { sys: "native1", ref: "ort1", label: "native 1T ÷ ORT 1T" },
  { sys: "native2", ref: "ort2", label: "native 2T ÷ ORT 2T" },
  { sys: "wasm", ref: "tfwasm", label: "wasm ÷ TF wasm" },
];

export interface Row {
  key: string;
  workload: string;
  metric: string;
  /** Seconds per call → the metric's value. */
  value: (sec: number) => number;
  /** Issue 6's target, and whether the measured cells meet it (undefined: not measurable). */
  target?: string;
  met?: (get: (id: SystemId) => number | undefined) => boolean | undefined;
}

const gflops = (n: number) => (sec: number) => (2 * n ** 3) / sec / 1e9;
const ms = (sec: number) => sec * 1e3;
/** PyTorch's best thread count: the W2/W4 targets do not name one. */
const ptBest = (get: (id: SystemId) => number | undefined) => {
  const v = [get("pt1"), get("pt2")].filter((x): x is number => x !== undefined);
  return v.length ? Math.min(...v) : undefined;
};
const within = (a: number | undefined, b: number | undefined, f: number) =>
  a === undefined || b === undefined ? undefined : a <= f * b;

export const ROWS: Row[] = [
  { key: "w1.64", workload: "W1 matmul 64", metric: "GFLOP/s ↑", value: gflops(64) },
  { key: "w1.256", workload: "W1 matmul 256", metric: "GFLOP/s ↑", value: gflops(256) },
  {
    key: "w1.1024",
    workload: "W1 matmul 1024",
    metric: "GFLOP/s ↑",
    value: gflops(1024),
    target: "native 1T ≥ 210, 2T ≥ 400",
    met: (get) => {
      const [a, b] = [get("native1"), get("native2")];
      if (a === undefined || b === undefined) return undefined;
      return gflops(1024)(a) >= 210 && gflops(1024)(b) >= 400;
    },
  },
  {
    key: "w2",
    workload: "W2 MLP train step (b128)",
    metric: "ms ↓",
    value: ms,
    target: "≤ 0.8× PyTorch (best T)",
    met: (get) => within(get("native2"), ptBest(get), 0.8),
  },
  {
    key: "w3",
    workload: "W3 CNN train step (b64)",
    metric: "ms ↓",
    value: ms,
    target: "≤ 1.0× PyTorch 2T",
    met: (get) => within(get("native2"), get("pt2"), 1.0),
  },
  { key: "w3f", workload: "W3f CNN inference forward (b64)", metric: "ms ↓", value: ms },
  {
    key: "w4",
    workload: "W4 LSTM train step",
    metric: "ms ↓",
    value: ms,
    target: "≤ 0.8× PyTorch (best T)",
    met: (get) => within(get("native2"), ptBest(get), 0.8),
  },
  {
    key: "w5.b1",
    workload: "W5 MLP inference, batch 1",
    metric: "µs ↓",
    value: (s) => s * 1e6,
    target: "≤ 16 µs",
    met: (get) => within(get("native2"), 16e-6, 1),
  },
  {
    key: "w5.b1024",
    workload: "W5 MLP inference, batch 1024",
    metric: "samples/s ↑",
    value: (s) => 1024 / s,
    target: "≥ 530k samples/s",
    met: (get) => within(get("native2"), 1024 / 530e3, 1),
  },
  {
    key: "w6",
    workload: "W6 new process: import+MLP+1 step",
    metric: "s ↓",
    value: (s) => s,
    target: "≤ 0.2 s",
    met: (get) => within(get("native2"), 0.2, 1),
  },
  // Issue 13: a 4-layer, 4-head, d = 128 character GPT (bench/suite/gpt.ts, bench/suite/gpt_pt.py).
  { key: "w7", workload: "W7 GPT train step (b16, T128)", metric: "ms ↓", value: ms },
  { key: "w8", workload: "W8 GPT generate 256 tok (KV cache)", metric: "tokens/s ↑", value: (s) => 256 / s },
];

/** 3 significant digits, thousands as "k"/"M" for large throughputs. */
export function fmtValue(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toPrecision(3)}M`;
  if (v >= 1e4) return `${(v / 1e3).toPrecision(3)}k`;
  if (v >= 100) return v.toFixed(0);
  return v.toPrecision(3);
}

function fmtCell(row: Row, c: Cell | undefined): string {
  if (!c) return "—";
  if (c.skip !== undefined) return "n/a";
  const v = fmtValue(row.value(c.sec!));
  if (c.cold) return `${v} (1 cold step)`;
  return c.n !== undefined && c.n < 5 ? `${v} (n=${c.n})` : v;
}

const fmtRatio = (x: number) => (x >= 100 ? `${x.toFixed(0)}×` : x >= 10 ? `${x.toFixed(1)}×` : `${x.toFixed(2)}×`);

/** The table as aligned Markdown: valid Markdown, and readable as plain text in a terminal. */
export function renderTable(results: Map<SystemId, Map<string, Cell>>, present: Set<SystemId>): string {
  const cols = SYSTEMS.filter((s) => present.has(s.id));
  const ratios = RATIOS.filter((r) => present.has(r.sys) && present.has(r.ref));
  const header = ["Workload", "Metric", ...cols.map((s) => s.label), ...ratios.map((r) => r.label), "Target", "Met"];
  const lines: string[][] = [header];
  // Rows of workloads this run measured (`--only`) on any system.
  for (const row of ROWS.filter((r) => cols.some((s) => results.get(s.id)?.has(r.key)))) {
    const sec = (id: SystemId): number | undefined => {
      const c = results.get(id)?.get(row.key);
      return c && c.skip === undefined ? c.sec : undefined;
    };
    const met = row.met?.(sec);
    lines.push([
      row.workload,
      row.metric,
      ...cols.map((s) => fmtCell(row, results.get(s.id)?.get(row.key))),
      ...ratios.map((r) => {
        const [a, b] = [sec(r.sys), sec(r.ref)];
        return a === undefined || b === undefined ? "—" : fmtRatio(a / b);
      }),
      row.target ?? "",
      met === undefined ? (row.target ? "?" : "") : met ? "yes" : "no",
    ]);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => [...l[i]!].length)));
  const pad = (l: string[]) =>
    "| " + l.map((s, i) => (i < 2 ? s.padEnd(widths[i]!) : s.padStart(widths[i]!))).join(" | ") + " |";
  const rule = "|" + widths.map((w, i) => (i < 2 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|") + "|";
  return [pad(lines[0]!), rule, ...lines.slice(1).map(pad)].join("\n");
}

/** Every cell's raw figures (for the saved file): samples, calls per sample, fastest and slowest. */
export function renderRaw(results: Map<SystemId, Map<string, Cell>>): string {
  const out = [
    "| System | Cell | median s/call | samples | calls/sample | min | max |",
    "|---|---|--:|--:|--:|--:|--:|",
  ];
  for (const s of SYSTEMS) {
    for (const [key, c] of results.get(s.id) ?? []) {
      if (c.skip !== undefined) out.push(`| ${s.label} | ${key} | n/a: ${c.skip} | | | | |`);
      else
        out.push(
          `| ${s.label} | ${key} | ${c.sec!.toExponential(3)} | ${c.n}${c.cold ? " (cold)" : ""} | ${c.inner} | ` +
            `${c.min!.toExponential(3)} | ${c.max!.toExponential(3)} |`,
        );
    }
  }
  return out.join("\n");
}
