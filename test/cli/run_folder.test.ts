// The CLI's failure paths end as one line on stderr and a non-zero exit (bad weights metadata, an
// output path that is a file, a config.json that is a folder, --out a folder), nothing planted in
// a run folder redirects a write (symlinks at config.json, metrics.jsonl, checkpoints/), and
// "checkpointEvery" plus --resume continue a run to the weights of the uninterrupted one.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { tensor } from "../../src/index.js";
import { save, loadFile } from "../../src/io/safetensors.js";
import { runCli } from "../helpers/cli.js";

let dir = "";

function descent(...args: string[]): { code: number; stdout: string; stderr: string } {
  return runCli(dir, ...args);
}

/** A failure: exit code 1 and exactly one line on stderr, matching re (no stack trace). */
function oneLineError(r: { code: number; stderr: string }, re: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
  assert.match(lines[0]!, re);
}

const CONFIG = {
  seed: 3,
  model: { input: [4], layers: [{ type: "linear", out: 8 }, { type: "relu" }, { type: "linear", out: 3 }] },
  data: { format: "csv", train: "train.csv", labelColumn: "label" },
  loss: "crossentropy",
  optimizer: { type: "adam", lr: 0.05 },
  epochs: 2,
  batchSize: 7,
};

before(() => {
  dir = mkdtempSync(join(tmpdir(), "descent-runfolder-"));
  const rows = ["a,b,c,d,label"];
  for (let i = 0; i < 45; i++) rows.push([i % 5, (i * 7) % 11, (i * 3) % 4, i % 2, i % 3].join(","));
  writeFileSync(join(dir, "train.csv"), rows.join("\n") + "\n");
  writeFileSync(join(dir, "input.json"), JSON.stringify([[1, 2, 3, 4]]));
  writeFileSync(join(dir, "config.json"), JSON.stringify(CONFIG));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("predict: malformed descent.config or descent.preprocess metadata is one line, exit 1", () => {
  const w = { "0.weight": tensor([[1, 2, 3, 4]]), "0.bias": tensor([0]) };
  save(w, join(dir, "badcfg.safetensors"), { "descent.config": "{not json" });
  oneLineError(
    descent("predict", "badcfg.safetensors", "input.json"),
    /^descent predict: error: badcfg\.safetensors: its metadata "descent\.config" is not valid JSON/,
  );
  const cfg = JSON.stringify({ model: { input: [4], layers: [{ type: "linear", out: 1 }] }, loss: "mse" });
  for (const [name, pre, re] of [
    ["num", "5", /"descent\.preprocess" is number, expected an object/],
    ["arr", "[1]", /"descent\.preprocess" is an array/],
    ["input", JSON.stringify({ input: [-1], scale: 1, mean: 0, std: 1 }), /has input \[-1\]/],
    ["std", JSON.stringify({ input: [4], scale: 1, mean: 0, std: 0 }), /has std 0, expected a finite non-zero number/],
  ] as const) {
    save(w, join(dir, `pre-${name}.safetensors`), { "descent.config": cfg, "descent.preprocess": pre });
    oneLineError(descent("predict", `pre-${name}.safetensors`, "input.json"), re);
  }
});

test("train: an output path that is a file, or whose config.json is a folder, is one line, exit 1", () => {
  writeFileSync(join(dir, "afile"), "x");
  oneLineError(
    descent("train", "config.json", "--output", "afile", "--log", "silent"),
    /^descent train: error: output .*afile exists and is not a folder/,
  );
  mkdirSync(join(dir, "cfgdir", "config.json"), { recursive: true });
  oneLineError(
    descent("train", "config.json", "--output", "cfgdir", "--log", "silent"),
    /^descent train: error: .*config\.json/,
  );
  // And predict --out naming a folder.
  const r = descent("train", "config.json", "--output", "ok", "--epochs", "1", "--log", "silent");
  assert.equal(r.code, 0, r.stderr);
  mkdirSync(join(dir, "outdir"));
  oneLineError(
    descent("predict", "ok/model.safetensors", "input.json", "--out", "outdir"),
    /^descent predict: error: --out: .*outdir/,
  );
});

test("train never writes through a symlink planted in the run folder", () => {
  const run = join(dir, "planted");
  mkdirSync(run);
  const victims = ["victim-config", "victim-metrics"].map((v) => join(dir, v));
  for (const v of victims) writeFileSync(v, "precious\n");
  symlinkSync(victims[0]!, join(run, "config.json"));
  symlinkSync(victims[1]!, join(run, "metrics.jsonl"));
  const r = descent("train", "config.json", "--output", "planted", "--epochs", "1", "--log", "silent");
  assert.equal(r.code, 0, r.stderr);
  for (const v of victims) assert.equal(readFileSync(v, "utf8"), "precious\n");
  for (const f of ["config.json", "metrics.jsonl"]) assert.ok(lstatSync(join(run, f)).isFile(), `${f} is a file now`);
  assert.match(readFileSync(join(run, "metrics.jsonl"), "utf8"), /"event":"epoch"/);
  // A checkpoints/ that is a link to another folder is refused.
  const elsewhere = mkdtempSync(join(dir, "elsewhere-"));
  const run2 = join(dir, "planted2");
  mkdirSync(run2);
  symlinkSync(elsewhere, join(run2, "checkpoints"));
  oneLineError(
    descent("train", "config.json", "--output", "planted2", "--epochs", "1", "--log", "silent"),
    /checkpoints exists and is a symbolic link; refusing to write checkpoints through it/,
  );
});

test('train: "checkpointEvery" and --resume continue a run to the uninterrupted weights', () => {
  writeFileSync(join(dir, "every.json"), JSON.stringify({ ...CONFIG, checkpointEvery: { steps: 4 } }));
  const full = descent("train", "every.json", "--output", "full", "--log", "silent");
  assert.equal(full.code, 0, full.stderr);
  const part = descent("train", "every.json", "--output", "part", "--epochs", "1", "--log", "silent");
  assert.equal(part.code, 0, part.stderr);
  const rest = descent("train", "every.json", "--output", "part", "--resume", "--log", "silent");
  assert.equal(rest.code, 0, rest.stderr);
  const a = loadFile(join(dir, "full/model.safetensors")).tensors;
  const b = loadFile(join(dir, "part/model.safetensors")).tensors;
  for (const k of Object.keys(a)) assert.deepEqual(b[k]!.toFlatArray(), a[k]!.toFlatArray(), k);
  const epochs = readFileSync(join(dir, "part/metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { epoch?: number })
    .map((l) => l.epoch);
  assert.deepEqual(epochs, [1, 2], "the resumed run appends to metrics.jsonl");
  oneLineError(
    descent("train", "every.json", "--output", "fresh", "--resume", "--log", "silent"),
    /--resume: there is no .*last\.safetensors to resume from/,
  );
  writeFileSync(join(dir, "every0.json"), JSON.stringify({ ...CONFIG, checkpointEvery: { steps: 0 } }));
  oneLineError(descent("train", "every0.json", "--log", "silent"), /checkpointEvery\.steps/);
});
