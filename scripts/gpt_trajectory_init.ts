// Writes the starting point of the GPT trajectory check (run by scripts/gpt_trajectory.py):
// <dir>/init.safetensors, the initial weights of a small GPT made by Descent, and
// <dir>/batches.json, the config, the training hyper-parameters and the 20 batches [B, T+1].
//
//   node --import tsx scripts/gpt_trajectory_init.ts test/fixtures/gpt_trajectory

import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { Generator, manualSeed, nn, save } from "descent-nn";

const dir = process.argv[2] ?? "test/fixtures/gpt_trajectory";
mkdirSync(dir, { recursive: true });
const config = { vocabSize: 20, contextLength: 16, dModel: 32, nHeads: 4, nLayers: 2, dropout: 0 };
const train = { steps: 20, lr: 3e-3, warmupSteps: 5, weightDecay: 0.1, betas: [0.9, 0.95], clip: 0.5 };
const [B, T] = [4, 16];
manualSeed(2026);
const model = new nn.GPT(config);
save(model.stateDict(), join(dir, "init.safetensors"));
// Batches with structure to learn (each row counts up from a random start, with random slips),
// so the losses fall and the trajectory is not flat.
const g = new Generator(7);
const batches = Array.from({ length: train.steps }, () =>
  Array.from({ length: B }, () => {
    let x = g.randint(config.vocabSize);
    return Array.from({ length: T + 1 }, () => (x = g.uniform() < 0.2 ? g.randint(config.vocabSize) : (x + 1) % 20));
  }),
);
writeFileSync(join(dir, "batches.json"), JSON.stringify({ config, train, batches }) + "\n");
console.log(`wrote ${dir}/init.safetensors and ${dir}/batches.json`);
