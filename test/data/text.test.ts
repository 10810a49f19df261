// Character text data: the vocabulary (unknown character, JSON round trip), the split by file,
// seeded windows that are contiguous slices of the text, and the unigram entropy.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { data } from "../../src/index.js";

test("CharVocab: sorted characters after the unknown one; unseen characters encode to 0", () => {
  const v = data.CharVocab.fromText("hello");
  assert.deepEqual(v.chars, ["", "e", "h", "l", "o"]);
  assert.deepEqual(Array.from(v.encode("hole!")), [2, 4, 3, 1, 0]);
  assert.equal(v.decode(v.encode("hello")), "hello");
  assert.equal(v.decode([2, 0]), "h\uFFFD");
  assert.deepEqual(data.CharVocab.fromJSON(JSON.parse(JSON.stringify(v))).chars, v.chars);
  assert.throws(() => data.CharVocab.fromJSON({ chars: ["", "a", "a"] }), /entry 2 \("a"\) is not one new character/);
  assert.throws(() => data.CharVocab.fromJSON({ chars: 3 }), /expected \{"chars": \[strings\]\}/);
});

test("readTextSplit: whole files go to one side; *.dat and hidden files are skipped", () => {
  const dir = mkdtempSync(join(tmpdir(), "descent-text-"));
  try {
    for (const n of ["a", "b", "c", "d", "e", "f", "g", "a.dat", ".hidden"]) writeFileSync(join(dir, n), n.repeat(3));
    mkdirSync(join(dir, "sub"));
    const s = data.readTextSplit(dir, { valEvery: 3 });
    assert.deepEqual(s.valFiles, ["c", "f"]);
    assert.deepEqual(s.trainFiles, ["a", "b", "d", "e", "g"]);
    assert.equal(s.train, "aaabbbdddeeeggg");
    assert.equal(s.val, "cccfff");
    assert.throws(() => data.readTextSplit(dir, { valEvery: 1 }), /valEvery must be an integer >= 2, got 1/);
    assert.throws(() => data.readTextSplit(join(dir, "nope")), /text folder .*nope not found$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("TextWindows: seeded [B, T+1] windows, each a contiguous slice of the ids", () => {
  const ids = Int32Array.from({ length: 100 }, (_, i) => i);
  const w = new data.TextWindows(ids, 5);
  const a = w.sample(3, 7);
  assert.deepEqual(a.shape, [3, 8]);
  for (const row of a.toArray() as number[][]) row.forEach((x, i) => assert.equal(x, row[0]! + i));
  assert.deepEqual(new data.TextWindows(ids, 5).sample(3, 7).toArray(), a.toArray());
  assert.throws(() => w.sample(1, 100), /100 tokens are too few for windows of 101/);
});

test("unigramEntropy: -sum p ln p of the character frequencies", () => {
  assert.ok(Math.abs(data.unigramEntropy([1, 1, 2, 2], 3) - Math.log(2)) < 1e-12);
  assert.equal(data.unigramEntropy([4, 4, 4], 5), 0);
  const p = [0.5, 0.25, 0.25];
  const h = -p.reduce((s, x) => s + x * Math.log(x), 0);
  assert.ok(Math.abs(data.unigramEntropy([0, 0, 1, 2], 3) - h) < 1e-12);
});
