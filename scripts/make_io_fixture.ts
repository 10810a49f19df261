// Writes test/fixtures/io/descent_written.safetensors, the Descent-written file that
// scripts/fixtures_io.py reads into PyTorch: the state dict of Sequential(Linear(4, 3),
// BatchNorm1d(3)) after two training-mode batches (so the running statistics and
// num_batches_tracked are not their initial values), plus extra tensors covering float64, int32
// extremes, an empty tensor, a 0-d tensor and non-finite values, and some metadata.
// Deterministic (manualSeed): rerunning it rewrites the same bytes, which test/io/pytorch.test.ts checks.
//
//   node --import tsx scripts/make_io_fixture.ts

import { fileURLToPath } from "node:url";
import { resolve } from "node:path";
import { manualSeed, randn, tensor, type Tensor } from "../src/index.js";
import { Sequential } from "../src/nn/layers/container.js";
import { Linear } from "../src/nn/layers/linear.js";
import { BatchNorm1d } from "../src/nn/layers/batchnorm.js";
import { save } from "../src/io/safetensors.js";

export const FIXTURE_PATH = resolve(
  fileURLToPath(import.meta.url),
  "../../test/fixtures/io/descent_written.safetensors",
);

export function ioFixture(): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  manualSeed(20240605);
  const model = new Sequential(new Linear(4, 3), new BatchNorm1d(3));
  model.forward(randn([5, 4]));
  model.forward(randn([5, 4]).mul(3).add(1));
  const tensors: Record<string, Tensor> = { ...model.stateDict() };
  tensors["extra.f64"] = tensor(new Float64Array([Math.PI, -1e-300, 1e300, 0.1]), { shape: [2, 2] });
  tensors["extra.i32"] = tensor(new Int32Array([-2147483648, -1, 0, 1, 2147483647]));
  tensors["extra.empty"] = randn([0, 3]);
  tensors["extra.scalar"] = tensor(-2.5);
  tensors["extra.special"] = tensor([NaN, Infinity, -Infinity, -0, 1e-45, 3.4028234663852886e38]);
  return { tensors, metadata: { producer: "descent-nn", model: "Sequential(Linear(4,3),BatchNorm1d(3))" } };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { tensors, metadata } = ioFixture();
  save(tensors, FIXTURE_PATH, metadata);
  console.log(`wrote ${FIXTURE_PATH}`);
}
