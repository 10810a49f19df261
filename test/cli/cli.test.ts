// The descent command end to end on tiny IDX and CSV files written here: train (1 epoch), predict,
// inspect, a reduced demo, and the messages for a missing file, a bad config field and a layer whose
// shape does not fit.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../helpers/cli.js";

let dir = "";

function descent(...args: string[]): { code: number; stdout: string; stderr: string } {
  return runCli(dir, ...args);
}

/** An IDX file of unsigned bytes (magic 0x0000 08 ndim, big-endian sizes, then the data). */
function idxBytes(dims: number[], data: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(0x0800 + dims.length, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(data)]);
}

/** n 8x8 images of 4 classes: a bright 4x4 block in quadrant `label`, plus a little noise. */
function images(n: number, seed: number): { x: Uint8Array; y: Uint8Array } {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const x = new Uint8Array(n * 64);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 4;
    y[i] = c;
    for (let r = 0; r < 8; r++)
      for (let q = 0; q < 8; q++) {
        const inside = Math.floor(r / 4) * 2 + Math.floor(q / 4) === c;
        x[i * 64 + r * 8 + q] = Math.min(255, Math.floor((inside ? 180 : 20) + rnd() * 60));
      }
  }
  return { x, y };
}

const CONFIG = {
  seed: 1,
  model: {
    input: [1, 8, 8],
    layers: [
      { type: "conv2d", out: 4, kernel: 3, padding: 1 },
      { type: "relu" },
      { type: "maxpool2d", kernel: 2 },
      { type: "flatten" },
      { type: "linear", out: 4 },
    ],
  },
  data: {
    format: "idx",
    train: { images: "train-images.gz", labels: "train-labels" },
    test: { images: "test-images", labels: "test-labels" },
    validationSplit: 0.2,
  },
  loss: "crossentropy",
  optimizer: { type: "adam", lr: 0.02 },
  epochs: 1,
  batchSize: 16,
  output: "run",
};

before(() => {
  dir = mkdtempSync(join(tmpdir(), "descent-cli-"));
  const tr = images(200, 7);
  const te = images(40, 11);
  writeFileSync(join(dir, "train-images.gz"), gzipSync(idxBytes([200, 8, 8], tr.x))); // gzipped
  writeFileSync(join(dir, "train-labels"), idxBytes([200], tr.y));
  writeFileSync(join(dir, "test-images"), idxBytes([40, 8, 8], te.x));
  writeFileSync(join(dir, "test-labels"), idxBytes([40], te.y));
  writeFileSync(join(dir, "config.json"), JSON.stringify(CONFIG));
  // The same test images as CSV, raw pixels with a label column.
  const rows = ["label," + Array.from({ length: 64 }, (_, i) => `p${i}`).join(",")];
  for (let i = 0; i < 40; i++) rows.push([te.y[i], ...te.x.subarray(i * 64, i * 64 + 64)].join(","));
  writeFileSync(join(dir, "test.csv"), rows.join("\n") + "\n");
});

after(() => rmSync(dir, { recursive: true, force: true }));

test("descent train: one epoch on IDX files writes weights, checkpoints and a metrics log", () => {
  const r = descent("train", "config.json");
  assert.equal(r.code, 0, r.stderr);
  // Not a terminal: stdout is JSON lines only; the narrative goes to stderr.
  const events = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const epoch = events.find((e) => e.event === "epoch")!;
  assert.equal(epoch.epoch, 1);
  for (const k of ["loss", "accuracy", "valLoss", "valAccuracy"]) assert.equal(typeof epoch[k], "number", k);
  assert.match(r.stderr, /model: 5 layers, 300 parameters, input \[1, 8, 8\] -> output \[4\]/);
  assert.match(r.stderr, /training on 160, validating on 40/);
  assert.match(r.stderr, /test: loss [\d.]+, accuracy [\d.]+% on 40 samples/);
  for (const f of ["model.safetensors", "checkpoints/best.safetensors", "checkpoints/last.safetensors", "config.json"])
    assert.ok(existsSync(join(dir, "run", f)), f);
  const log = readFileSync(join(dir, "run/metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { event: string });
  assert.deepEqual(
    log.map((l) => l.event),
    ["epoch", "test"],
  );
});

test('descent train with "report": true writes report.html with gradient-health charts', () => {
  writeFileSync(join(dir, "config-report.json"), JSON.stringify({ ...CONFIG, output: "run-report", report: true }));
  const r = descent("train", "config-report.json");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /report: .*report\.html/);
  const html = readFileSync(join(dir, "run-report", "report.html"), "utf8");
  assert.ok(html.includes("<svg"), "the report has SVG charts");
});

test("descent inspect lists names, dtypes, shapes, the parameter count and metadata", () => {
  const r = descent("inspect", "run/model.safetensors");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /0\.weight\s+float32\s+\[4, 1, 3, 3\]\s+36/);
  assert.match(r.stdout, /4\.bias\s+float32\s+\[4\]\s+4/);
  assert.match(r.stdout, /parameters \(floating-point values\): 300/);
  assert.match(r.stdout, /descent\.config: \{"seed":1/);
  const j = JSON.parse(descent("inspect", "run/model.safetensors", "--json").stdout) as { parameters: number };
  assert.equal(j.parameters, 300);
});

test("descent predict: IDX and CSV inputs, printed or written, with accuracy against labels", () => {
  const a = descent("predict", "run/model.safetensors", "test-images", "--labels", "test-labels");
  assert.equal(a.code, 0, a.stderr);
  const lines = a.stdout.trim().split("\n");
  assert.equal(lines[0], "index,prediction,confidence,label");
  assert.equal(lines.length, 41);
  const acc = Number(/accuracy: ([\d.]+)%/.exec(a.stderr)![1]);
  // The CSV holds the same images (raw 0-255 pixels, scaled by the saved preprocessing) and labels.
  const out = join(dir, "preds.json");
  const b = descent("predict", "run/model.safetensors", "test.csv", "--out", out);
  assert.equal(b.code, 0, b.stderr);
  const j = JSON.parse(readFileSync(out, "utf8")) as { predictions: number[]; accuracy: number };
  assert.equal(j.predictions.length, 40);
  assert.deepEqual(
    j.predictions,
    lines.slice(1).map((l) => Number(l.split(",")[1])),
  );
  assert.ok(Math.abs(j.accuracy * 100 - acc) < 1e-9);
});

test("descent train on CSV data", () => {
  writeFileSync(
    join(dir, "csv.json"),
    JSON.stringify({
      ...CONFIG,
      data: { format: "csv", train: "test.csv", labelColumn: "label", scale: 255 },
      output: "run-csv",
    }),
  );
  const r = descent("train", "csv.json", "--log", "silent");
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(dir, "run-csv/model.safetensors")));
});

test("clear messages: missing file, bad config field, a layer that does not fit", () => {
  const bad = (name: string, cfg: unknown) => {
    writeFileSync(join(dir, name), JSON.stringify(cfg));
    return descent("train", name, "--log", "silent");
  };
  const missing = descent("train", "nope.json");
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /config file not found: nope\.json/);
  const opt = bad("bad-opt.json", { ...CONFIG, optimizer: { type: "adma" } });
  assert.equal(opt.code, 1);
  assert.match(
    opt.stderr,
    /config\.optimizer\.type: expected one of "sgd", "adam", "adamw", "rmsprop", "adagrad", got string "adma"/,
  );
  const lr = bad("bad-lr.json", { ...CONFIG, optimizer: { type: "adam", lr: -1 } });
  assert.match(lr.stderr, /config\.optimizer\.lr: expected a number > 0, got number -1/);
  const typo = bad("typo.json", { ...CONFIG, epoch: 3 });
  assert.match(typo.stderr, /config: unknown field "epoch"/);
  const file = bad("bad-file.json", {
    ...CONFIG,
    data: { ...CONFIG.data, train: { images: "missing.gz", labels: "x" } },
  });
  assert.match(file.stderr, /config\.data\.train\.images: file not found: missing\.gz/);
  const layers = [...CONFIG.model.layers];
  layers[4] = { type: "linear", in: 5, out: 4 } as never;
  const shape = bad("bad-shape.json", { ...CONFIG, model: { input: [1, 8, 8], layers } });
  assert.equal(shape.code, 1);
  assert.match(shape.stderr, /config\.model\.layers\[4\]\.in: the layer gets 64 from the previous layer/);
  const tooSmall = bad("small.json", {
    ...CONFIG,
    model: { input: [1, 8, 8], layers: [{ type: "conv2d", out: 2, kernel: 9 }] },
  });
  assert.match(
    tooSmall.stderr,
    /config\.model\.layers\[0\] \(conv2d\): does not fit its input of per-sample shape \[1, 8, 8\]/,
  );
  const classes = bad("classes.json", { ...CONFIG, model: { input: [64], layers: [{ type: "linear", out: 3 }] } });
  assert.match(classes.stderr, /the last layer needs "out": 4/);
  const unknown = descent("frobnicate");
  assert.equal(unknown.code, 2);
});

test("descent demo, reduced (1 epoch on 500 digits)", () => {
  const r = descent("demo", "--epochs", "1", "--limit", "500", "--output", "demo-run");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Descent demo: MLP on the 10,000 digits/);
  assert.match(r.stdout, /test accuracy \d+\.\d\d%/);
  assert.match(
    r.stdout,
    /inference: predict \(a compiled plan\) classified the \d+ test digits one at a time, [\d.]+ µs each/,
  );
  assert.match(r.stdout, /model saved to .*demo-run\/model\.safetensors/);
});
