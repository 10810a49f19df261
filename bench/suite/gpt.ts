// The GPT workloads of the benchmark suite (issue 13), Descent's side; bench/suite/gpt_pt.py is
// PyTorch's. W7: one training step (forward, loss, backward, AdamW step, loss read back) of a
// 4-layer, 4-head, d = 128, context 128 character GPT on a batch of 16 windows. W8: generating 256
// tokens after a one-token prompt with the key/value cache, batch 1 (the same model with context
// 256, so the cache never has to be recomputed); temperature-1 sampling.

import { nn, optim, tensor } from "../../src/index.js";

const VOCAB = 96;
const SHAPE = { vocabSize: VOCAB, dModel: 128, nHeads: 4, nLayers: 4 };

/** Deterministic token ids (the same formula in gpt_pt.py). */
export function tokenIds(n: number, seed: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => ((i + seed) * 7919) % VOCAB);
}

export function gptTrainStep(): () => void {
  const [b, t] = [16, 128];
  const model = new nn.GPT({ ...SHAPE, contextLength: t });
  const opt = new optim.AdamW(model.parameters(), { lr: 1e-3 });
  const x = tensor(tokenIds(b * t, 1), { shape: [b, t] });
  const y = tensor(tokenIds(b * t, 2), { shape: [b * t] });
  return () => {
    opt.zeroGrad();
    const loss = nn.functional.crossEntropy(model.forward(x).reshape(b * t, VOCAB), y);
    loss.backward();
    opt.step();
    loss.item();
  };
}

export function gptGenerate(): () => void {
  const model = new nn.GPT({ ...SHAPE, contextLength: 256 });
  let seed = 0;
  return () => void model.generate([1], { maxNewTokens: 256, temperature: 1, seed: seed++ });
}
