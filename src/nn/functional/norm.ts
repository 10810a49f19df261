// Group and instance normalisation as functions (torch.nn.functional.group_norm, instance_norm),
// composed from Tensor methods: statistics are means over reshaped views, so autograd gives the
// backward. Both use the biased variance to normalise, as PyTorch.

import { DescentError, shapeStr } from "../../core/errors.js";
import { noGrad } from "../../autograd/graph.js";
import type { Tensor } from "../../tensor/tensor.js";

function checkAffine(op: string, x: Tensor, c: number, pairs: [string, Tensor | null][]): void {
  for (const [name, t] of pairs) {
    if (t && (t.ndim !== 1 || t.shape[0] !== c))
      throw new DescentError(
        `${op}: ${name} must have shape [${c}] for input ${shapeStr(x.shape)}, got ${shapeStr(t.shape)}`,
      );
  }
}

/**
 * Group norm over x [N, C, ...]: the C channels form numGroups groups, each normalised over its
 * channels and all spatial positions of one sample; then weight·x̂ + bias per channel.
 */
export function groupNorm(
  x: Tensor,
  numGroups: number,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps = 1e-5,
): Tensor {
  const op = "groupNorm";
  if (x.dtype === "int32") throw new DescentError(`${op}: expected a floating-point input, got ${x.dtype}`);
  if (x.ndim < 2)
    throw new DescentError(`${op}: expected an input [N, C, ...] with at least 2 dims, got ${shapeStr(x.shape)}`);
  const [n, c] = x.shape as [number, number];
  if (!Number.isInteger(numGroups) || numGroups < 1 || c % numGroups !== 0)
    throw new DescentError(
      `${op}: expected the ${c} channels of input ${shapeStr(x.shape)} to be divisible by numGroups=${numGroups}`,
    );
  checkAffine(op, x, c, [
    ["weight", weight],
    ["bias", bias],
  ]);
  const g = x.reshape([n, numGroups, -1]);
  const mean = g.mean(2, true);
  const centred = g.sub(mean);
  const y = centred.mul(centred.square().mean(2, true).add(eps).rsqrt()).reshape(x.shape);
  const bshape = x.shape.map((s, i) => (i === 1 ? s : 1));
  const scaled = weight ? y.mul(weight.reshape(bshape)) : y;
  return bias ? scaled.add(bias.reshape(bshape)) : scaled;
}

/**
 * Instance norm over x [N, C, ...]: each channel of each sample normalised over its spatial
 * positions (useInputStats), or by runningMean/runningVar. With useInputStats and running
 * statistics given, these are updated in place as PyTorch does (it runs batch norm on a
 * [1, N·C, ...] view with the statistics repeated N times, then averages them back over N):
 * running = (1 - momentum)·running + momentum·mean over N of the instance mean (unbiased variance).
 */
export function instanceNorm(
  x: Tensor,
  runningMean: Tensor | null = null,
  runningVar: Tensor | null = null,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  useInputStats = true,
  momentum = 0.1,
  eps = 1e-5,
): Tensor {
  const op = "instanceNorm";
  if (x.dtype === "int32") throw new DescentError(`${op}: expected a floating-point input, got ${x.dtype}`);
  if (x.ndim < 3)
    throw new DescentError(
      `${op}: expected an input [N, C, ...] with at least one spatial dim, got ${shapeStr(x.shape)}`,
    );
  const c = x.shape[1]!;
  checkAffine(op, x, c, [
    ["weight", weight],
    ["bias", bias],
    ["runningMean", runningMean],
    ["runningVar", runningVar],
  ]);
  const dims = x.shape.slice(2).map((_, i) => i + 2);
  const bshape = x.shape.map((s, i) => (i === 1 ? s : 1));
  let mean: Tensor;
  let variance: Tensor;
  if (useInputStats) {
    const count = x.size / (x.shape[0]! * c);
    if (count <= 1)
      throw new DescentError(
        `${op}: expected more than 1 spatial element when training, got input ${shapeStr(x.shape)}`,
      );
    mean = x.mean(dims, true);
    variance = x.sub(mean).square().mean(dims, true);
    if (runningMean || runningVar) {
      const m = mean;
      const v = variance;
      noGrad(() => {
        if (runningMean) runningMean.mul_(1 - momentum).add_(m.mean(0).reshape([c]).mul(momentum));
        if (runningVar)
          runningVar.mul_(1 - momentum).add_(
            v
              .mean(0)
              .reshape([c])
              .mul((momentum * count) / (count - 1)),
          );
      });
    }
  } else {
    if (!runningMean || !runningVar)
      throw new DescentError(`${op}: runningMean and runningVar are required when not using input statistics`);
    mean = runningMean.reshape(bshape);
    variance = runningVar.reshape(bshape);
  }
  let scale = variance.add(eps).rsqrt();
  if (weight) scale = scale.mul(weight.reshape(bshape));
  const y = x.sub(mean).mul(scale);
  return bias ? y.add(bias.reshape(bshape)) : y;
}
