// Writes test/fixtures/rng_stream.json from the call sequences of test/helpers/rng_pins.ts. It was
// run with the generator of before issue 15 (per-element draws through a closure), so the file
// holds the stream that tests, fixtures, checkpoints and resumed runs were made with;
// test/core/random.test.ts requires the same values, bit for bit, from the current generator.
// Re-running it must leave the file unchanged: `node --import tsx scripts/make_rng_pins.ts &&
// git diff --exit-code test/fixtures/rng_stream.json`.

import { writeFileSync } from "node:fs";
import { join } from "node:path";

import { rngPinCases } from "../test/helpers/rng_pins.js";

const out = join(import.meta.dirname, "../test/fixtures/rng_stream.json");
// One line per step: a diff shows which draw changed.
const lines = Object.entries(rngPinCases()).map(
  ([name, steps]) => `  ${JSON.stringify(name)}: [\n${steps.map((s) => `    ${JSON.stringify(s)}`).join(",\n")}\n  ]`,
);
writeFileSync(out, `{\n "cases": {\n${lines.join(",\n")}\n }\n}\n`);
console.log(`wrote ${out}`);
