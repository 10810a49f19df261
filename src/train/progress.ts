// What fit prints while it trains: a one-line progress bar redrawn with "\r" on a terminal, or JSON
// lines (one object per epoch, optionally one per N batches) for logs and other programs.

// `performance` is the global one: importing node:perf_hooks loaded eleven of Node's internal
// modules when the package was imported, used or not (issue 15).
import { checkOptions } from "../core/options.js";

/** Where fit writes: process.stdout by default; anything with write() (and isTTY/columns if a terminal). */
export interface LogStream {
  /** Writes text. */
  write(chunk: string): unknown;
  /** True for a terminal (progress bars redraw a line). */
  isTTY?: boolean;
  /** A terminal's width. */
  columns?: number;
}

/**
 * "auto": a progress bar on a terminal outside CI, JSON lines otherwise; "epochs": the progress
 * bar's one summary line per epoch without the redrawn line (readable logs for people).
 */
export type LogMode = "auto" | "progress" | "epochs" | "json" | "silent";

/** One epoch's results, as fit's history and the JSON lines hold them. */
export interface EpochLog {
  /** The 1-based epoch number. */
  epoch: number;
  /** Mean training loss over the epoch. */
  loss: number;
  /** Training accuracy, when asked. */
  accuracy?: number;
  /** Validation loss, with val. */
  valLoss?: number;
  /** Validation accuracy, with val and the accuracy metric. */
  valAccuracy?: number;
  /** The learning rate of the first parameter group during the epoch (its start). */
  lr: number;
  /** Samples seen in the epoch. */
  samples: number;
  /** Wall time of the epoch (training and validation). */
  seconds: number;
}

/** Receives fit's events and renders them. */
export interface TrainingLogger {
  /** An epoch begins: its number, the total, and the batch count when the loader knows it. */
  epochStart(epoch: number, epochs: number, batches: number | null): void;
  /** After each batch: its 1-based index, samples so far, the running mean loss (and accuracy). */
  batch(index: number, samples: number, runningLoss: number, runningAccuracy: number | null, lr: number): void;
  /** Validation begins (the bar says so while it runs). */
  validating(): void;
  /** An epoch ended with these results. */
  epochEnd(log: EpochLog): void;
  /** A free-form note (early stopping, a best checkpoint): a line on a terminal, a JSON event otherwise. */
  note(event: string, fields: Record<string, unknown>, text: string): void;
}

const LOGGER_KEYS: ReadonlySet<string> = new Set(["logEvery"]);
const BAR_KEYS: ReadonlySet<string> = new Set(["redraw"]);

/** Chooses the logger for a mode. "auto" picks the bar when stream.isTTY and the CI variable is unset. */
export function createLogger(
  mode: LogMode = "auto",
  stream: LogStream = process.stdout,
  opts: { logEvery?: number } = {},
): TrainingLogger {
  checkOptions("createLogger", opts, LOGGER_KEYS);
  let m = mode;
  if (m === "auto") m = stream.isTTY && !process.env.CI ? "progress" : "json";
  if (m === "progress") return new ProgressBar(stream);
  if (m === "epochs") return new ProgressBar(stream, { redraw: false });
  if (m === "json") return new JsonLinesLogger(stream, opts.logEvery ?? 0);
  return silentLogger;
}

const silentLogger: TrainingLogger = {
  epochStart() {},
  batch() {},
  validating() {},
  epochEnd() {},
  note() {},
};

/** Rounds for logs: 6 significant digits keeps lines short without hiding progress. */
function round(v: number): number {
  return Number.isFinite(v) ? Number(v.toPrecision(6)) : v;
}

/** Formats seconds as 1m05s / 12.3s. */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  const sec = Math.round(s - 60 * m);
  if (m < 60) return `${m}m${String(sec).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** JSON lines: {"event":"epoch",...} per epoch and {"event":"batch",...} every logEvery batches. */
export class JsonLinesLogger implements TrainingLogger {
  private epoch = 0;
  private started = 0;

  constructor(
    private readonly stream: LogStream,
    private readonly logEvery = 0,
  ) {}

  epochStart(epoch: number): void {
    this.epoch = epoch;
    this.started = performance.now();
  }

  batch(index: number, samples: number, runningLoss: number, runningAccuracy: number | null, lr: number): void {
    if (this.logEvery <= 0 || index % this.logEvery !== 0) return;
    const seconds = (performance.now() - this.started) / 1000;
    const line: Record<string, unknown> = { event: "batch", epoch: this.epoch, batch: index, samples };
    line.loss = round(runningLoss);
    if (runningAccuracy !== null) line.accuracy = round(runningAccuracy);
    line.lr = lr;
    line.samplesPerSecond = round(samples / Math.max(seconds, 1e-9));
    this.stream.write(JSON.stringify(line) + "\n");
  }

  validating(): void {}

  epochEnd(log: EpochLog): void {
    const line: Record<string, unknown> = { event: "epoch" };
    for (const [k, v] of Object.entries(log)) line[k] = typeof v === "number" && k !== "lr" ? round(v) : v;
    this.stream.write(JSON.stringify(line) + "\n");
  }

  note(event: string, fields: Record<string, unknown>): void {
    this.stream.write(JSON.stringify({ event, ...fields }) + "\n");
  }
}

/**
 * A progress bar for terminals: one line per epoch, redrawn in place with "\r" (at most ~10 times a
 * second) while the epoch runs, showing batches, a bar, samples/s, ETA and the running loss; the
 * finished line is replaced by the epoch's summary.
 */
export class ProgressBar implements TrainingLogger {
  private epoch = 0;
  private epochs = 0;
  private batches: number | null = null;
  private started = 0;
  private lastDraw = -Infinity;
  private width = 0;

  private readonly redraw: boolean;

  constructor(
    private readonly stream: LogStream,
    opts: { redraw?: boolean } = {},
  ) {
    checkOptions("ProgressBar", opts, BAR_KEYS);
    this.redraw = opts.redraw ?? true;
  }

  epochStart(epoch: number, epochs: number, batches: number | null): void {
    this.epoch = epoch;
    this.epochs = epochs;
    this.batches = batches;
    this.started = performance.now();
    this.lastDraw = -Infinity;
    this.width = 0;
  }

  private draw(text: string): void {
    if (!this.redraw) {
      this.stream.write(text);
      return;
    }
    const cols = Math.max((this.stream.columns ?? 100) - 1, 20);
    const line = text.length > cols ? text.slice(0, cols) : text;
    const pad = Math.max(this.width - line.length, 0);
    this.stream.write("\r" + line + " ".repeat(pad));
    this.width = line.length;
  }

  private prefix(): string {
    const w = String(this.epochs).length;
    return `epoch ${String(this.epoch).padStart(w)}/${this.epochs}`;
  }

  batch(index: number, samples: number, runningLoss: number, runningAccuracy: number | null): void {
    if (!this.redraw) return;
    const now = performance.now();
    const last = this.batches !== null && index >= this.batches;
    if (!last && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const seconds = (now - this.started) / 1000;
    const rate = samples / Math.max(seconds, 1e-9);
    let bar = "";
    let eta = "";
    if (this.batches !== null && this.batches > 0) {
      const frac = Math.min(index / this.batches, 1);
      const filled = Math.round(frac * 24);
      bar = ` [${"=".repeat(filled)}${filled < 24 ? ">" : ""}${".".repeat(Math.max(23 - filled, 0))}]`;
      eta = `  ETA ${formatDuration((seconds / index) * (this.batches - index))}`;
    }
    const total = this.batches !== null ? `/${this.batches}` : "";
    const acc = runningAccuracy !== null ? `  acc ${(runningAccuracy * 100).toFixed(1)}%` : "";
    this.draw(
      `${this.prefix()}${bar} ${index}${total}  ${Math.round(rate)} samples/s${eta}  loss ${runningLoss.toFixed(4)}${acc}`,
    );
  }

  validating(): void {
    if (this.redraw) this.draw(`${this.prefix()}  validating…`);
  }

  epochEnd(log: EpochLog): void {
    const parts = [`${this.prefix()}  ${formatDuration(log.seconds)}`, `loss ${log.loss.toFixed(4)}`];
    if (log.accuracy !== undefined) parts.push(`acc ${(log.accuracy * 100).toFixed(2)}%`);
    if (log.valLoss !== undefined) parts.push(`val_loss ${log.valLoss.toFixed(4)}`);
    if (log.valAccuracy !== undefined) parts.push(`val_acc ${(log.valAccuracy * 100).toFixed(2)}%`);
    parts.push(`lr ${log.lr.toPrecision(3)}`);
    this.draw(parts.join("  "));
    this.stream.write("\n");
    this.width = 0;
  }

  note(_event: string, _fields: Record<string, unknown>, text: string): void {
    this.stream.write(text + "\n");
  }
}
