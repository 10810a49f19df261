// The Transformer layers of PyTorch: TransformerEncoderLayer, TransformerDecoderLayer and the
// stacks TransformerEncoder / TransformerDecoder, with PyTorch's submodule names (self_attn,
// multihead_attn, linear1, linear2, norm1..3) so state dicts move both ways unchanged. Post-norm
// by default, pre-norm with normFirst; masks use MultiheadAttention's convention (int32 1 = masked).

import type { Tensor } from "../../tensor/tensor.js";
import type { DType } from "../../core/dtype.js";
import { DescentError } from "../../core/errors.js";
import { checkOptions, keysOf, mergeKeys } from "../../core/options.js";
import { Module } from "../module.js";
import { Linear } from "./linear.js";
import { Dropout } from "./dropout.js";
import { LayerNorm } from "./layernorm.js";
import { ModuleList } from "./container.js";
import { MultiheadAttention } from "./attention.js";

/** The feed-forward activation: "relu", "gelu" or a function. */
export type TransformerActivation = "relu" | "gelu" | ((x: Tensor) => Tensor);

/** Options of TransformerEncoderLayer and TransformerDecoderLayer (PyTorch's keyword arguments, camelCased). */
export interface TransformerLayerOptions {
  /** Hidden width of the feed-forward block (default 2048). */
  dimFeedforward?: number;
  /** Dropout probability (default 0.1). */
  dropout?: number;
  /** Feed-forward activation (default "relu"). */
  activation?: TransformerActivation;
  /** LayerNorm eps (default 1e-5). */
  layerNormEps?: number;
  /** Inputs and outputs are [N, L, E] rather than [L, N, E] (default false). */
  batchFirst?: boolean;
  /** Pre-norm (LayerNorm before each block) instead of post-norm (default false). */
  normFirst?: boolean;
  /** Parameter dtype (default float32). */
  dtype?: DType;
}

/** The keys of TransformerLayerOptions, for checkOptions. */
const TRANSFORMER_LAYER_KEYS = keysOf<TransformerLayerOptions>()({
  dimFeedforward: true,
  dropout: true,
  activation: true,
  layerNormEps: true,
  batchFirst: true,
  normFirst: true,
  dtype: true,
});

/** Masks for an encoder layer's self-attention (PyTorch's src_mask, src_key_padding_mask, is_causal). */
export interface EncoderForwardOptions {
  /** [L, L] attention mask (int32 1 = may not attend, or a float added to the scores). */
  srcMask?: Tensor | null;
  /** [N, L] key padding mask (int32 1 = padding, or a float added to the scores). */
  srcKeyPaddingMask?: Tensor | null;
  /** A causal self-attention mask when srcMask is not given. */
  isCausal?: boolean;
}

/** The keys of EncoderForwardOptions, for checkOptions. */
const ENCODER_FORWARD_KEYS = keysOf<EncoderForwardOptions>()({
  srcMask: true,
  srcKeyPaddingMask: true,
  isCausal: true,
});
/** TransformerEncoder.forward also takes `mask` (PyTorch's name there for srcMask). */
const ENCODER_STACK_KEYS = mergeKeys(ENCODER_FORWARD_KEYS, new Set(["mask"]));
const STACK_KEYS: ReadonlySet<string> = new Set(["norm"]);

/** Masks for a decoder layer's self- and cross-attention (PyTorch's tgt_mask, memory_mask, … is_causal). */
export interface DecoderForwardOptions {
  /** [T, T] self-attention mask. */
  tgtMask?: Tensor | null;
  /** [T, S] cross-attention mask. */
  memoryMask?: Tensor | null;
  /** [N, T] padding mask of the target. */
  tgtKeyPaddingMask?: Tensor | null;
  /** [N, S] padding mask of the memory. */
  memoryKeyPaddingMask?: Tensor | null;
  /** A causal self-attention mask when tgtMask is not given. */
  tgtIsCausal?: boolean;
}

/** The keys of DecoderForwardOptions, for checkOptions. */
const DECODER_FORWARD_KEYS = keysOf<DecoderForwardOptions>()({
  tgtMask: true,
  memoryMask: true,
  tgtKeyPaddingMask: true,
  memoryKeyPaddingMask: true,
  tgtIsCausal: true,
});

function activationFn(op: string, a: TransformerActivation): (x: Tensor) => Tensor {
  if (typeof a === "function") return a;
  if (a === "relu") return (x) => x.relu();
  if (a === "gelu") return (x) => x.gelu();
  throw new DescentError(`${op}: activation should be "relu" or "gelu", not ${String(a)}`);
}

/** The parts both layers share: options, the feed-forward block and copying. */
abstract class TransformerLayerBase extends Module {
  declare readonly dModel: number;
  declare readonly nhead: number;
  declare readonly opts: TransformerLayerOptions;
  declare protected act: (x: Tensor) => Tensor;
  // declare: assigned in the constructor in PyTorch's order (a class field would be defined first).
  declare self_attn: MultiheadAttention;
  declare linear1: Linear;
  declare dropout: Dropout;
  declare linear2: Linear;
  declare normFirst: boolean;

  constructor(op: string, dModel: number, nhead: number, opts: TransformerLayerOptions, cross: boolean) {
    super();
    checkOptions(op, opts, TRANSFORMER_LAYER_KEYS);
    // Kept non-enumerable: they are options, not parameters or children.
    const hidden = { dModel, nhead, opts: { ...opts }, act: activationFn(op, opts.activation ?? "relu") };
    for (const [k, v] of Object.entries(hidden)) Object.defineProperty(this, k, { value: v, enumerable: false });
    const p = opts.dropout ?? 0.1;
    const ff = opts.dimFeedforward ?? 2048;
    const dtype = opts.dtype;
    const mha = (): MultiheadAttention =>
      new MultiheadAttention(dModel, nhead, { dropout: p, batchFirst: opts.batchFirst, dtype });
    this.self_attn = mha();
    // The decoder's cross-attention, made here so that it comes second in stateDict() as in PyTorch.
    if (cross) (this as unknown as { multihead_attn: MultiheadAttention }).multihead_attn = mha();
    this.linear1 = new Linear(dModel, ff, { dtype });
    this.dropout = new Dropout(p);
    this.linear2 = new Linear(ff, dModel, { dtype });
    this.normFirst = opts.normFirst ?? false;
  }

  protected norm(): LayerNorm {
    return new LayerNorm(this.dModel, { eps: this.opts.layerNormEps ?? 1e-5, dtype: this.opts.dtype });
  }

  protected ffBlock(x: Tensor, out: Dropout): Tensor {
    return out.forward(this.linear2.forward(this.dropout.forward(this.act(this.linear1.forward(x)))));
  }

  /** A copy with the same options, weights and mode (PyTorch's copy.deepcopy of the layer). */
  copyLayer(): this {
    const Ctor = this.constructor as new (d: number, h: number, o: TransformerLayerOptions) => this;
    const c = new Ctor(this.dModel, this.nhead, this.opts);
    c.loadStateDict(this.stateDict());
    c.train(this.training);
    return c;
  }
}

/**
 * A Transformer encoder layer (torch.nn.TransformerEncoderLayer): self-attention then a feed-forward
 * block, each with dropout, a residual connection and LayerNorm (post-norm, or pre-norm with normFirst).
 * `forward(src, opts)`: [L, N, E] (or [N, L, E] with batchFirst) → the same shape.
 *
 * @example
 * ```ts
 * const layer = new nn.TransformerEncoderLayer(64, 4, { dimFeedforward: 256, batchFirst: true });
 * const encoder = new nn.TransformerEncoder(layer, 2);
 * const y = encoder.forward(randn([8, 16, 64])); // [8, 16, 64]
 * ```
 */
export class TransformerEncoderLayer extends TransformerLayerBase {
  /** LayerNorm of the self-attention block. */
  norm1: LayerNorm;
  /** LayerNorm of the feed-forward block. */
  norm2: LayerNorm;
  /** Dropout after self-attention. */
  dropout1: Dropout;
  /** Dropout after the feed-forward block. */
  dropout2: Dropout;

  constructor(dModel: number, nhead: number, opts: TransformerLayerOptions = {}) {
    super("TransformerEncoderLayer", dModel, nhead, opts, false);
    this.norm1 = this.norm();
    this.norm2 = this.norm();
    this.dropout1 = new Dropout(opts.dropout ?? 0.1);
    this.dropout2 = new Dropout(opts.dropout ?? 0.1);
  }

  /** src [S, N, E] ([N, S, E] with batchFirst, or unbatched [S, E]). */
  forward(src: Tensor, opts: EncoderForwardOptions = {}): Tensor {
    checkOptions("TransformerEncoderLayer.forward", opts, ENCODER_FORWARD_KEYS);
    const sa = (x: Tensor): Tensor =>
      this.dropout1.forward(
        this.self_attn.forward(x, x, x, {
          attnMask: opts.srcMask,
          keyPaddingMask: opts.srcKeyPaddingMask,
          isCausal: opts.isCausal,
          needWeights: false,
        })[0],
      );
    let x = src;
    if (this.normFirst) {
      x = x.add(sa(this.norm1.forward(x)));
      return x.add(this.ffBlock(this.norm2.forward(x), this.dropout2));
    }
    x = this.norm1.forward(x.add(sa(x)));
    return this.norm2.forward(x.add(this.ffBlock(x, this.dropout2)));
  }
}

/**
 * A Transformer decoder layer (torch.nn.TransformerDecoderLayer): self-attention, cross-attention over
 * the memory, then a feed-forward block. `forward(tgt, memory, opts)`: tgt [T, N, E], memory [S, N, E]
 * (batch first with batchFirst) → [T, N, E].
 */
export class TransformerDecoderLayer extends TransformerLayerBase {
  /** The cross-attention over the memory. */
  declare multihead_attn: MultiheadAttention;
  /** LayerNorm of the self-attention block. */
  norm1: LayerNorm;
  /** LayerNorm of the cross-attention block. */
  norm2: LayerNorm;
  /** LayerNorm of the feed-forward block. */
  norm3: LayerNorm;
  /** Dropout after self-attention. */
  dropout1: Dropout;
  /** Dropout after cross-attention. */
  dropout2: Dropout;
  /** Dropout after the feed-forward block. */
  dropout3: Dropout;

  constructor(dModel: number, nhead: number, opts: TransformerLayerOptions = {}) {
    super("TransformerDecoderLayer", dModel, nhead, opts, true);
    const p = opts.dropout ?? 0.1;
    this.norm1 = this.norm();
    this.norm2 = this.norm();
    this.norm3 = this.norm();
    this.dropout1 = new Dropout(p);
    this.dropout2 = new Dropout(p);
    this.dropout3 = new Dropout(p);
  }

  /** tgt [T, N, E], memory [S, N, E] ([N, ·, E] with batchFirst, or unbatched). */
  forward(tgt: Tensor, memory: Tensor, opts: DecoderForwardOptions = {}): Tensor {
    checkOptions("TransformerDecoderLayer.forward", opts, DECODER_FORWARD_KEYS);
    const sa = (x: Tensor): Tensor =>
      this.dropout1.forward(
        this.self_attn.forward(x, x, x, {
          attnMask: opts.tgtMask,
          keyPaddingMask: opts.tgtKeyPaddingMask,
          isCausal: opts.tgtIsCausal,
          needWeights: false,
        })[0],
      );
    const mha = (x: Tensor): Tensor =>
      this.dropout2.forward(
        this.multihead_attn.forward(x, memory, memory, {
          attnMask: opts.memoryMask,
          keyPaddingMask: opts.memoryKeyPaddingMask,
          needWeights: false,
        })[0],
      );
    let x = tgt;
    if (this.normFirst) {
      x = x.add(sa(this.norm1.forward(x)));
      x = x.add(mha(this.norm2.forward(x)));
      return x.add(this.ffBlock(this.norm3.forward(x), this.dropout3));
    }
    x = this.norm1.forward(x.add(sa(x)));
    x = this.norm2.forward(x.add(mha(x)));
    return this.norm3.forward(x.add(this.ffBlock(x, this.dropout3)));
  }
}

function checkNumLayers(op: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new DescentError(`${op}: numLayers must be a positive integer, got ${n}`);
}

/** numLayers copies of an encoder layer (identical initial weights, as PyTorch's deep copies), then an optional norm. */
export class TransformerEncoder extends Module {
  /** The numLayers layers. */
  layers: ModuleList<TransformerEncoderLayer>;
  /** The final norm, if any. */
  norm: Module | null;
  /** How many layers. */
  numLayers: number;

  constructor(layer: TransformerEncoderLayer, numLayers: number, opts: { norm?: Module | null } = {}) {
    super();
    checkOptions("TransformerEncoder", opts, STACK_KEYS);
    if (!(layer instanceof TransformerEncoderLayer))
      throw new DescentError(`TransformerEncoder: layer must be a TransformerEncoderLayer`);
    checkNumLayers("TransformerEncoder", numLayers);
    this.layers = new ModuleList(Array.from({ length: numLayers }, () => layer.copyLayer()));
    this.numLayers = numLayers;
    this.norm = opts.norm ?? null;
  }

  forward(src: Tensor, opts: EncoderForwardOptions & { mask?: Tensor | null } = {}): Tensor {
    checkOptions("TransformerEncoder.forward", opts, ENCODER_STACK_KEYS);
    const { mask, ...rest } = opts;
    const o = { ...rest, srcMask: rest.srcMask ?? mask };
    let x = src;
    for (let i = 0; i < this.layers.length; i++) x = this.layers.at(i).forward(x, o);
    return this.norm ? (this.norm.forward as (t: Tensor) => Tensor)(x) : x;
  }
}

/** numLayers copies of a decoder layer, then an optional norm. */
export class TransformerDecoder extends Module {
  /** The numLayers layers. */
  layers: ModuleList<TransformerDecoderLayer>;
  /** The final norm, if any. */
  norm: Module | null;
  /** How many layers. */
  numLayers: number;

  constructor(layer: TransformerDecoderLayer, numLayers: number, opts: { norm?: Module | null } = {}) {
    super();
    checkOptions("TransformerDecoder", opts, STACK_KEYS);
    if (!(layer instanceof TransformerDecoderLayer))
      throw new DescentError(`TransformerDecoder: layer must be a TransformerDecoderLayer`);
    checkNumLayers("TransformerDecoder", numLayers);
    this.layers = new ModuleList(Array.from({ length: numLayers }, () => layer.copyLayer()));
    this.numLayers = numLayers;
    this.norm = opts.norm ?? null;
  }

  forward(tgt: Tensor, memory: Tensor, opts: DecoderForwardOptions = {}): Tensor {
    checkOptions("TransformerDecoder.forward", opts, DECODER_FORWARD_KEYS);
    let x = tgt;
    for (let i = 0; i < this.layers.length; i++) x = this.layers.at(i).forward(x, memory, opts);
    return this.norm ? (this.norm.forward as (t: Tensor) => Tensor)(x) : x;
  }
}
