// MultiheadAttention as PyTorch's nn.MultiheadAttention: the same parameters under the same
// state-dict names (in_proj_weight [3E, E] or q/k/v_proj_weight when kdim/vdim differ, in_proj_bias,
// out_proj), the same masks and the same initialisation, so PyTorch weights load unchanged. Masks
// use MHA's convention, the opposite of SDPA's: an int32 1 (PyTorch's bool True) means "may NOT
// attend"; a float mask is added to the scores.

import { zeros } from "../../tensor/creation.js";
import { where, type Tensor } from "../../tensor/tensor.js";
import type { DType } from "../../core/dtype.js";
import { DescentError, shapeStr } from "../../core/errors.js";
import { checkOptions, keysOf, dtypeOption } from "../../core/options.js";
import { Module, Parameter } from "../module.js";
import { Linear } from "./linear.js";
import * as F from "../functional/activation.js";
import { causalMask, scaledDotProductAttention, sdpaComposed } from "../functional/attention.js";
import { constant_, xavierUniform_ } from "../init.js";

/** Options of MultiheadAttention (PyTorch's keyword arguments, camelCased). */
export interface MultiheadAttentionOptions {
  /** Dropout probability on the attention weights in training (default 0). */
  dropout?: number;
  /** Learnable input and output projection biases (default true). */
  bias?: boolean;
  /** Features of the keys (default embedDim). */
  kdim?: number;
  /** Features of the values (default embedDim). */
  vdim?: number;
  /** Inputs and output are [N, L, E] instead of [L, N, E]. */
  batchFirst?: boolean;
  /** Parameter dtype (default float32). */
  dtype?: DType;
}

/** The keys of MultiheadAttentionOptions, for checkOptions. */
const MHA_KEYS = keysOf<MultiheadAttentionOptions>()({
  dropout: true,
  bias: true,
  kdim: true,
  vdim: true,
  batchFirst: true,
  dtype: true,
});

/** Options of MultiheadAttention.forward (PyTorch's forward keyword arguments, camelCased). */
export interface MhaForwardOptions {
  /** [N, S] (or [S] unbatched): int32 1 = ignore that key, or a float added to the scores. */
  keyPaddingMask?: Tensor | null;
  /** Return the attention weights (default true). */
  needWeights?: boolean;
  /** [L, S] or [N·numHeads, L, S]: int32 1 = may not attend, or a float added to the scores. */
  attnMask?: Tensor | null;
  /** Average the returned weights over the heads (default true). */
  averageAttnWeights?: boolean;
  /** A causal mask (query i sees keys ≤ i) when attnMask is not given; with attnMask, a hint. */
  isCausal?: boolean;
}

/** The keys of MhaForwardOptions, for checkOptions. */
const MHA_FORWARD_KEYS = keysOf<MhaForwardOptions>()({
  keyPaddingMask: true,
  needWeights: true,
  attnMask: true,
  averageAttnWeights: true,
  isCausal: true,
});

/** PyTorch's out_proj class (a Linear; named so that toString prints what PyTorch prints). */
export class NonDynamicallyQuantizableLinear extends Linear {}

/**
 * Multi-head attention (torch.nn.MultiheadAttention) with PyTorch's parameters (in_proj_weight
 * [3E, E] or q/k/v_proj_weight when kdim/vdim differ, in_proj_bias, out_proj) and initialisation.
 * `forward(query, key, value, opts)` takes [L, N, E], [S, N, kdim], [S, N, vdim] ([N, L, E] … with
 * batchFirst, or unbatched [L, E]) and returns [output [L, N, E], weights [N, L, S] (averaged over
 * heads) or null when needWeights is false].
 *
 * @example
 * ```ts
 * const mha = new nn.MultiheadAttention(64, 8, { batchFirst: true });
 * const x = randn([2, 10, 64]);
 * const [y, w] = mha.forward(x, x, x, { isCausal: true }); // y [2, 10, 64], w [2, 10, 10]
 * ```
 */
export class MultiheadAttention extends Module {
  /** Model width E (the query's and output's features). */
  embedDim: number;
  /** Features of the keys. */
  kdim: number;
  /** Features of the values. */
  vdim: number;
  /** Number of heads; embedDim is split into numHeads heads of headDim. */
  numHeads: number;
  /** Dropout probability on the attention weights. */
  dropout: number;
  /** Inputs and outputs are [N, L, E] rather than [L, N, E]. */
  batchFirst: boolean;
  /** embedDim / numHeads. */
  headDim: number;
  /** The packed query, key and value projections [3E, E] (null when kdim or vdim differ from E). */
  in_proj_weight: Parameter | null;
  /** The query projection [E, E] when kdim or vdim differ from E, else null. */
  q_proj_weight: Parameter | null;
  /** The key projection [E, kdim] when kdim or vdim differ from E, else null. */
  k_proj_weight: Parameter | null;
  /** The value projection [E, vdim] when kdim or vdim differ from E, else null. */
  v_proj_weight: Parameter | null;
  /** The packed projection biases [3E] (null without bias). */
  in_proj_bias: Parameter | null;
  /** The output projection, a Linear(E, E). */
  out_proj: NonDynamicallyQuantizableLinear;

  constructor(embedDim: number, numHeads: number, opts: MultiheadAttentionOptions = {}) {
    super();
    checkOptions("MultiheadAttention", opts, MHA_KEYS);
    const kdim = opts.kdim ?? embedDim;
    const vdim = opts.vdim ?? embedDim;
    for (const [name, v] of [
      ["embedDim", embedDim],
      ["numHeads", numHeads],
      ["kdim", kdim],
      ["vdim", vdim],
    ] as const) {
      if (!Number.isInteger(v) || v <= 0)
        throw new DescentError(`MultiheadAttention: ${name} must be a positive integer, got ${v}`);
    }
    if (embedDim % numHeads !== 0)
      throw new DescentError(`MultiheadAttention: embedDim ${embedDim} must be divisible by numHeads ${numHeads}`);
    this.embedDim = embedDim;
    this.kdim = kdim;
    this.vdim = vdim;
    this.numHeads = numHeads;
    this.dropout = opts.dropout ?? 0;
    F.checkDropoutP("MultiheadAttention", this.dropout);
    this.batchFirst = opts.batchFirst ?? false;
    this.headDim = embedDim / numHeads;
    const dtype = dtypeOption("MultiheadAttention", opts.dtype);
    const same = kdim === embedDim && vdim === embedDim;
    const p = (shape: number[]): Parameter => new Parameter(zeros(shape, { dtype }));
    this.in_proj_weight = same ? p([3 * embedDim, embedDim]) : null;
    this.q_proj_weight = same ? null : p([embedDim, embedDim]);
    this.k_proj_weight = same ? null : p([embedDim, kdim]);
    this.v_proj_weight = same ? null : p([embedDim, vdim]);
    this.in_proj_bias = (opts.bias ?? true) ? p([3 * embedDim]) : null;
    this.out_proj = new NonDynamicallyQuantizableLinear(embedDim, embedDim, { bias: opts.bias ?? true, dtype });
    this.resetParameters();
  }

  /** As PyTorch's _reset_parameters: xavier_uniform_ projections, zero biases (out_proj's weight keeps Linear's init). */
  resetParameters(): void {
    if (this.in_proj_weight) xavierUniform_(this.in_proj_weight);
    else for (const w of [this.q_proj_weight, this.k_proj_weight, this.v_proj_weight]) xavierUniform_(w!);
    if (this.in_proj_bias) {
      constant_(this.in_proj_bias, 0);
      constant_(this.out_proj.bias!, 0);
    }
  }

  forward(query: Tensor, key: Tensor, value: Tensor, opts: MhaForwardOptions = {}): [Tensor, Tensor | null] {
    checkOptions("MultiheadAttention.forward", opts, MHA_FORWARD_KEYS);
    const E = this.embedDim;
    const H = this.numHeads;
    const shapes = `query ${shapeStr(query.shape)}, key ${shapeStr(key.shape)}, value ${shapeStr(value.shape)}`;
    const batched = query.ndim === 3;
    if ((query.ndim !== 2 && query.ndim !== 3) || key.ndim !== query.ndim || value.ndim !== query.ndim)
      throw new DescentError(
        `MultiheadAttention: query, key and value must all be 3-D (batched) or 2-D, got ${shapes}`,
      );
    // Work seq-first [L, N, E], as PyTorch does; unbatched inputs get N = 1.
    let [q, k, v] = [query, key, value].map((t) =>
      !batched ? t.unsqueeze(1) : this.batchFirst ? t.transpose(0, 1) : t,
    ) as [Tensor, Tensor, Tensor];
    const [L, N] = q.shape as [number, number];
    const S = k.shape[0]!;
    if (q.shape[2] !== E || k.shape[2] !== this.kdim || v.shape[2] !== this.vdim)
      throw new DescentError(
        `MultiheadAttention: expected feature sizes embedDim ${E}, kdim ${this.kdim}, vdim ${this.vdim}; got ${shapes}`,
      );
    if (k.shape[1] !== N || v.shape[1] !== N || v.shape[0] !== S)
      throw new DescentError(`MultiheadAttention: batch sizes and key/value lengths must agree, got ${shapes}`);
    // In-projection: the [3E] bias splits into q, k, v parts as PyTorch's in_proj_bias.
    const b = this.in_proj_bias ? this.in_proj_bias.chunk(3, 0) : [null, null, null];
    const w = this.in_proj_weight
      ? this.in_proj_weight.chunk(3, 0)
      : [this.q_proj_weight!, this.k_proj_weight!, this.v_proj_weight!];
    // Heads: [L, N, E] → [N, H, L, E/H].
    const heads = (t: Tensor, len: number): Tensor => t.reshape([len, N, H, this.headDim]).permute(1, 2, 0, 3);
    q = heads(F.linear(q, w[0]!, b[0]), L);
    k = heads(F.linear(k, w[1]!, b[1]), S);
    v = heads(F.linear(v, w[2]!, b[2]), S);
    const mask = this.mergeMasks(opts, batched, L, S, N, q.dtype, shapes);
    const sdpaOpts = { attnMask: mask, dropoutP: this.training ? this.dropout : 0 };
    const needWeights = opts.needWeights ?? true;
    let out: Tensor;
    let weights: Tensor | null = null;
    if (needWeights) [out, weights] = sdpaComposed(q, k, v, sdpaOpts);
    else out = scaledDotProductAttention(q, k, v, sdpaOpts);
    out = this.out_proj.forward(out.permute(2, 0, 1, 3).reshape([L, N, E]));
    if (this.batchFirst && batched) out = out.transpose(0, 1);
    if (!batched) out = out.squeeze(1);
    if (weights) {
      if (opts.averageAttnWeights ?? true) weights = weights.mean(1);
      if (!batched) weights = weights.squeeze(0);
    }
    return [out, weights];
  }

  /**
   * One additive float mask broadcasting to [N, H, L, S] from attnMask and keyPaddingMask (int32
   * 1 becomes −∞), or null. isCausal without attnMask makes the causal mask.
   */
  private mergeMasks(
    opts: MhaForwardOptions,
    batched: boolean,
    L: number,
    S: number,
    N: number,
    dtype: DType,
    shapes: string,
  ): Tensor | null {
    const H = this.numHeads;
    const additive = (m: Tensor, name: string): Tensor => {
      if (m.dtype === "int32") return where(m.ne(0), -Infinity, zeros([], { dtype }));
      if (m.dtype !== dtype)
        throw new DescentError(
          `MultiheadAttention: ${name} must be int32 (bool) or ${dtype} like the query, got ${m.dtype}`,
        );
      return m;
    };
    let mask: Tensor | null = null;
    const am = opts.attnMask ?? (opts.isCausal ? causalMask(L, S).eq(0) : null);
    if (am) {
      const ok2 = am.ndim === 2 && am.shape[0] === L && am.shape[1] === S;
      const ok3 = am.ndim === 3 && am.shape[0] === N * H && am.shape[1] === L && am.shape[2] === S;
      if (!ok2 && !ok3)
        throw new DescentError(
          `MultiheadAttention: attnMask ${shapeStr(am.shape)} must be [${L},${S}] or [${N * H},${L},${S}] (batch·numHeads) for ${shapes}`,
        );
      mask = additive(ok3 ? am.reshape([N, H, L, S]) : am, "attnMask");
    }
    const kpm = opts.keyPaddingMask;
    if (kpm) {
      const want = batched ? [N, S] : [S];
      if (shapeStr(kpm.shape) !== shapeStr(want))
        throw new DescentError(
          `MultiheadAttention: keyPaddingMask ${shapeStr(kpm.shape)} must be ${shapeStr(want)} (batch, source length) for ${shapes}`,
        );
      const k4 = additive(kpm, "keyPaddingMask").reshape([N, 1, 1, S]);
      mask = mask ? mask.add(k4) : k4;
    }
    return mask;
  }

  override extraRepr(): string {
    return "";
  }
}
