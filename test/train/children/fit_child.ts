// Child process for the true kill test (test/train/resume.test.ts): trains the run of
// resume_setup.ts with a checkpoint after every step, resuming from last.safetensors when asked,
// and writes the final weights to final.json. Usage: fit_child.ts <dir> <variant> <epochs> [resume].

import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fit } from "../../../src/train/fit.js";
import { buildRun, weightsOf, type Variant } from "./resume_setup.js";

const [dir, variant, epochs, resume] = process.argv.slice(2);
const { model, opts } = buildRun(variant as Variant, 90, 3);
const last = join(dir!, "checkpoints", "last.safetensors");
const history = fit(model, {
  ...opts,
  epochs: Number(epochs),
  checkpoint: { dir: join(dir!, "checkpoints"), keepBest: false },
  checkpointEvery: { steps: 1 },
  resumeFrom: resume && existsSync(last) ? last : undefined,
});
writeFileSync(
  join(dir!, "final.json"),
  JSON.stringify({ weights: weightsOf(model), epochs: history.epochs.map((e) => e.epoch) }),
);
process.stdout.write("done\n");
