// The steps for layers the tracer caught whole: Linear and Conv2d as GEMMs with a bias epilogue
// (Conv2d after an im2col), BatchNorm as a per-channel scale and shift (fuse.ts folds it into the
// preceding GEMM's epilogue when it can), LayerNorm as one row step, activation modules as
// one-instruction element-wise programs (fuse.ts moves them into a preceding GEMM's epilogue). A
// configuration these do not cover runs the layer's own forward in a JS step.

import type { Tensor } from "../tensor/tensor.js";
import * as nn from "../nn/index.js";
import type { GemmStep, PlanUnary } from "../backends/plan/index.js";
import type { PlanBuilder } from "./builder.js";
import type { LayerEvent } from "./trace.js";
import { jsLayer } from "./ops.js";

/** BatchNorm steps fuse.ts may fold: the program step, and its per-channel scale and shift. */
export interface BatchNormFold {
  readonly m: nn.BatchNorm1d | nn.BatchNorm2d;
  readonly scale: Tensor[];
  readonly s: () => Float32Array;
  readonly t: () => Float32Array;
}

/** Appends the steps of one layer; returns BatchNorm's fold data for its program step. */
export function layerSteps(b: PlanBuilder, e: LayerEvent, folds: Map<object, BatchNormFold>): void {
  const { m, x, out } = e;
  const f32 = x.dtype === "float32" && out.dtype === "float32";
  if (f32 && m instanceof nn.Linear && linear(b, m, x, out)) return;
  if (f32 && m instanceof nn.Conv2d && conv2d(b, m, x, out)) return;
  if (f32 && (m instanceof nn.BatchNorm1d || m instanceof nn.BatchNorm2d) && batchNorm(b, m, x, out, folds)) return;
  if (f32 && m instanceof nn.LayerNorm && layerNorm(b, m, x, out)) return;
  const act = f32 ? activation(m) : null;
  if (act) {
    const step = {
      kind: "ew" as const,
      n: out.size,
      inputs: [{ ref: b.contig(x), inner: 1, len: out.size }],
      out: b.outRef(out),
      prog: [{ op: act[0], dst: 1, a: 0, b: -1, imm: act[1] }],
      result: 1,
    };
    b.steps.push(step);
    return;
  }
  jsLayer(b, m.constructor.name, x, out, (t) => (m.forward as (t: Tensor) => Tensor).call(m, t));
}

function activation(m: object): [PlanUnary, number] | null {
  if (m instanceof nn.ReLU) return ["relu", 0];
  if (m instanceof nn.Sigmoid) return ["sigmoid", 0];
  if (m instanceof nn.Tanh) return ["tanh", 0];
  if (m instanceof nn.SiLU) return ["silu", 0];
  if (m instanceof nn.GELU) return [m.approximate === "tanh" ? "geluTanh" : "gelu", 0];
  if (m instanceof nn.LeakyReLU) return ["leakyRelu", m.negativeSlope];
  if (m instanceof nn.ELU) return ["elu", m.alpha];
  return null;
}

function gemm(fields: Omit<GemmStep, "kind" | "scale" | "perRow" | "act" | "alpha">, perRow: boolean): GemmStep {
  return { kind: "gemm", ...fields, scale: null, perRow, act: "identity", alpha: 0 };
}

/** y = x·Wᵀ + b over x's leading dims: B is the weight read transposed through its strides. */
function linear(b: PlanBuilder, m: nn.Linear, x: Tensor, out: Tensor): boolean {
  const w = m.weight;
  const [N, K] = w.shape as [number, number];
  if (w.strides.some((s) => s < 0) || x.shape[x.ndim - 1] !== K) return false;
  const a = b.contig(x);
  b.steps.push(
    gemm(
      {
        a,
        b: { slot: b.slotFor(w), off: w.offset },
        out: b.outRef(out),
        M: x.size / K,
        N,
        K,
        sAm: K,
        sAk: 1,
        sBk: w.strides[1]!,
        sBn: w.strides[0]!,
        count: 1,
        aBatch: 0,
        bBatch: 0,
        shift: m.bias ? b.contig(m.bias) : null,
      },
      false,
    ),
  );
  return true;
}

/** im2col of each image, then W [Cout, C·kh·kw] · cols [C·kh·kw, L] per image, the bias per row. */
function conv2d(b: PlanBuilder, m: nn.Conv2d, x: Tensor, out: Tensor): boolean {
  if (m.groups !== 1 || x.ndim !== 4 || out.ndim !== 4) return false;
  const [kh, kw] = m.kernelSize as [number, number];
  const [dh, dw] = m.dilation as [number, number];
  let pad: number[];
  if (m.padding === "valid") pad = [0, 0];
  else if (m.padding === "same") {
    const total = [dh * (kh - 1), dw * (kw - 1)];
    if (total.some((t) => t % 2 !== 0)) return false; // PyTorch pads the odd pixel on one side only
    pad = total.map((t) => t / 2);
  } else pad = m.padding;
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [, Cout, oh, ow] = out.shape as [number, number, number, number];
  const CK = C * kh * kw,
    L = oh! * ow!;
  const w = m.weight;
  if (!w.isContiguous()) return false;
  const cols = b.scratch("float32", N * CK * L);
  b.steps.push({
    kind: "im2col",
    x: b.contig(x),
    out: cols,
    dims: [N, C, H, W, kh, kw, m.stride[0]!, m.stride[1]!, pad[0]!, pad[1]!, dh, dw, oh!, ow!],
  });
  b.steps.push(
    gemm(
      {
        a: { slot: b.slotFor(w), off: w.offset },
        b: cols,
        out: b.outRef(out),
        M: Cout!,
        N: L,
        K: CK,
        sAm: CK,
        sAk: 1,
        sBk: L,
        sBn: 1,
        count: N,
        aBatch: 0,
        bBatch: CK * L,
        shift: m.bias ? b.contig(m.bias) : null,
      },
      true,
    ),
  );
  return true;
}

/**
 * Eval-mode BatchNorm: y = x·s + t per channel, s = w/√(var + eps), t = b − mean·s (the eager
 * forward's formula), s and t recomputed whenever a parameter or running statistic changes.
 */
function batchNorm(
  b: PlanBuilder,
  m: nn.BatchNorm1d | nn.BatchNorm2d,
  x: Tensor,
  out: Tensor,
  folds: Map<object, BatchNormFold>,
): boolean {
  const mean = m.running_mean,
    variance = m.running_var;
  if (!mean || !variance || x.ndim < 2) return false;
  const deps = [mean, variance, ...(m.weight ? [m.weight] : []), ...(m.bias ? [m.bias] : [])];
  const s = (): Float32Array => {
    const v = variance.toFlatArray() as Float32Array;
    const w = m.weight ? (m.weight.toFlatArray() as Float32Array) : null;
    return v.map((vi, c) => Math.fround(Math.fround(1 / Math.sqrt(Math.fround(vi + m.eps))) * (w ? w[c]! : 1)));
  };
  const t = (): Float32Array => {
    const sc = s();
    const mu = mean.toFlatArray() as Float32Array;
    const bias = m.bias ? (m.bias.toFlatArray() as Float32Array) : null;
    return sc.map((si, c) => (bias ? bias[c]! : 0) - mu[c]! * si);
  };
  const C = x.shape[1]!;
  const inner = x.size / (x.shape[0]! * C);
  const step = {
    kind: "ew" as const,
    n: out.size,
    inputs: [
      { ref: b.contig(x), inner: 1, len: out.size },
      { ref: b.derive(deps, s), inner, len: C },
      { ref: b.derive(deps, t), inner, len: C },
    ],
    out: b.outRef(out),
    prog: [
      { op: "mul" as const, dst: 3, a: 0, b: 1, imm: 0 },
      { op: "add" as const, dst: 4, a: 3, b: 2, imm: 0 },
    ],
    result: 4,
  };
  b.steps.push(step);
  folds.set(step, { m, scale: deps, s, t });
  return true;
}

function layerNorm(b: PlanBuilder, m: nn.LayerNorm, x: Tensor, out: Tensor): boolean {
  const cols = m.normalizedShape.reduce((p, s) => p * s, 1);
  if (cols === 0 || x.size % cols !== 0) return false;
  b.steps.push({
    kind: "layerNorm",
    x: b.contig(x),
    out: b.outRef(out),
    rows: x.size / cols,
    cols,
    eps: m.eps,
    weight: m.weight ? b.contig(m.weight) : null,
    bias: m.bias ? b.contig(m.bias) : null,
  });
  return true;
}
