// The view steps of a fixture input (scripts/fixtures_ops_b.py: transpose, permute, slice), applied
// to its leaf so an op sees the same non-contiguous operand PyTorch saw.

import type { Tensor } from "../../src/index.js";
import type { FixtureStep } from "./checkOp.js";

type StepArgs = { dim0: number; dim1: number; dims: number[]; dim: number; start: number; length: number };

const VIEW: Record<string, (x: Tensor, a: StepArgs) => Tensor> = {
  transpose: (x, a) => x.transpose(a.dim0, a.dim1),
  permute: (x, a) => x.permute(a.dims),
  slice: (x, a) => x.narrow(a.dim, a.start, a.length),
};

export function viewed(leaf: Tensor, steps: FixtureStep[] | undefined): Tensor {
  return (steps ?? []).reduce((t, s) => {
    const f = VIEW[s.op];
    if (!f) throw new Error(`fixture_views: unknown view step "${s.op}"`);
    return f(t, s.args as StepArgs);
  }, leaf);
}
