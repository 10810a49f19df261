// `descent train` with a text config and `descent generate`, end to end on a tiny corpus written
// here (CI machines may lack Debian's fortunes) and a tiny GPT: a few seconds.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../helpers/cli.js";

let dir = "";
const descent = (...args: string[]) => runCli(dir, ...args);

const CONFIG = {
  data: { type: "text", dir: "corpus", valEvery: 3 },
  model: { type: "gpt", contextLength: 16, dModel: 16, nHeads: 2, nLayers: 1 },
  steps: 30,
  batchSize: 4,
  lr: 0.01,
  evalEvery: 10,
  valBatches: 2,
  seed: 1,
  output: "run",
};

before(() => {
  dir = mkdtempSync(join(tmpdir(), "descent-gpt-cli-"));
  mkdirSync(join(dir, "corpus"));
  const words = ["the cat sat on the mat. ", "a dog ate my homework! ", "tea for two, and two for tea\n"];
  for (let f = 0; f < 6; f++)
    writeFileSync(join(dir, "corpus", `file${f}`), Array.from({ length: 40 }, (_, i) => words[(i + f) % 3]).join(""));
  writeFileSync(join(dir, "corpus", "file0.dat"), "index files are skipped");
  writeFileSync(join(dir, "gpt.json"), JSON.stringify(CONFIG));
});

after(() => rmSync(dir, { recursive: true, force: true }));

test("descent train <text config> trains a GPT and saves model + vocabulary; generate samples from it", () => {
  const r = descent("train", "gpt.json", "--log", "epochs");
  assert.equal(r.code, 0, r.stderr);
  const all = r.stdout + r.stderr;
  assert.match(all, /train files: file0 file1 file3 file4/);
  assert.match(all, /validation files: file2 file5/);
  assert.match(all, /validation loss \d\.\d{4} nats\/char; model saved to/);
  assert.ok(existsSync(join(dir, "run", "model.safetensors")));
  const vocab = JSON.parse(readFileSync(join(dir, "run", "vocab.json"), "utf8")) as { chars: string[] };
  assert.equal(vocab.chars[0], "");
  assert.ok(vocab.chars.includes("t") && !vocab.chars.includes("z"));
  const lines = readFileSync(join(dir, "run", "metrics.jsonl"), "utf8")
    .trim()
    .split("\n");
  const last = JSON.parse(lines[lines.length - 1]!) as { step: number; valLoss: number; loss: number };
  assert.equal(last.step, 29);
  assert.ok(last.valLoss < Math.log(vocab.chars.length), `val ${last.valLoss} did not beat the uniform guess`);

  const g = (...extra: string[]) => descent("generate", "run", "--prompt", "the ", "--tokens", "40", ...extra);
  const a = g("--seed", "3", "--temperature", "0.8", "--top-k", "5");
  assert.equal(a.code, 0, a.stderr);
  const text = a.stdout.replace(/\n$/, "");
  assert.ok(text.startsWith("the "));
  assert.equal(Array.from(text).length, 44);
  assert.equal(g("--seed", "3", "--temperature", "0.8", "--top-k", "5").stdout, a.stdout);
  assert.equal(descent("generate", join("run", "model.safetensors"), "--prompt", "a", "--tokens", "5").code, 0);
});

test("descent generate / train (text): mistakes give one line naming the problem", () => {
  const missing = descent("generate", "nowhere");
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /model not found: nowhere/);
  assert.equal(descent("generate", "run", "--temperature", "-1").code, 2);
  const noFortunes = { ...CONFIG, data: { type: "text", dir: join(dir, "absent", "fortunes") } };
  writeFileSync(join(dir, "bad.json"), JSON.stringify(noFortunes));
  const r = descent("train", "bad.json");
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /config.data.dir: .*not found \(install Debian's `fortunes` package: sudo apt-get install fortunes\)/,
  );
  writeFileSync(join(dir, "bad2.json"), JSON.stringify({ ...CONFIG, model: { ...CONFIG.model, nHeads: 3 } }));
  assert.match(descent("train", "bad2.json").stderr, /dModel \(16\) must be divisible by config.nHeads \(3\)/);
  writeFileSync(join(dir, "bad3.json"), JSON.stringify({ ...CONFIG, stepz: 3 }));
  assert.match(descent("train", "bad3.json").stderr, /config: unknown field "stepz"/);
});
