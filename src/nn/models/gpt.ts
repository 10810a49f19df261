// GPT: a decoder-only transformer language model in the shape of nanoGPT (Karpathy): token and
// position embeddings, nLayers pre-LayerNorm blocks of causal self-attention and a GELU MLP (4·d),
// a final LayerNorm and a linear head to the vocabulary. Initialisation as nanoGPT: every Linear
// and Embedding weight ~ N(0, 0.02), biases zero, and the two residual projections of each block
// ~ N(0, 0.02/√(2·nLayers)) so the residual stream's variance does not grow with depth. The head
// is not tied to the token embedding (one parameter per name keeps files and optimizers simple).
// forward() can take a KVCache: each attention layer then appends this call's keys and values to
// the cache and attends over everything cached, so generation costs one position per new token.
// Without autograd (generation runs under noGrad) the cache writes into buffers preallocated to the
// context length and attention reads their filled prefix as a view: no per-token copy of the cache.

import { DescentError, shapeStr } from "../../core/errors.js";
import { checkOptions, keysOf } from "../../core/options.js";
import { isGradEnabled } from "../../autograd/graph.js";
import { arange, zeros } from "../../tensor/creation.js";
import { cat, type Tensor } from "../../tensor/tensor.js";
import { Module } from "../module.js";
import { Linear } from "../layers/linear.js";
import { Embedding } from "../layers/embedding.js";
import { LayerNorm } from "../layers/layernorm.js";
import { Dropout } from "../layers/dropout.js";
import { ModuleList } from "../layers/container.js";
import * as F from "../functional/activation.js";
import { normal_, zeros_ } from "../init.js";
import { attend } from "./attend.js";
import { generate, type GenerateOptions } from "./generate.js";

/** The sizes of a GPT (as nanoGPT's GPTConfig): vocabulary, context, width, heads, depth, dropout. */
export interface GPTConfig {
  /** Number of token ids (rows of the token embedding, columns of the head's output). */
  vocabSize: number;
  /** The longest sequence the model sees (the number of position embeddings). */
  contextLength: number;
  /** Width of the residual stream (embedding size); must be divisible by nHeads. */
  dModel: number;
  /** Attention heads per layer (head size dModel / nHeads). */
  nHeads: number;
  /** Number of transformer blocks. */
  nLayers: number;
  /** Dropout after the embeddings, on the attention weights, and on each residual branch. Default 0. */
  dropout?: number;
}

/** The keys of GPTConfig, for checkOptions. */
const GPT_CONFIG_KEYS = keysOf<GPTConfig>()({
  vocabSize: true,
  contextLength: true,
  dModel: true,
  nHeads: true,
  nLayers: true,
  dropout: true,
});

/**
 * Per layer, the keys and values [B, nHeads, t, headDim] of the t positions seen so far. With a
 * capacity (GPT.newCache passes the context length), appends that autograd need not see are written
 * in place into per-layer buffers [B, nHeads, capacity, headDim] and k, v are views of their prefix;
 * otherwise (capacity 0, or keys that require grad) each append concatenates, keeping the graph.
 */
export class KVCache {
  /** Per layer, the cached keys [B, nHeads, t, headDim] (null for a layer not yet appended to). */
  readonly k: (Tensor | null)[];
  /** Per layer, the cached values [B, nHeads, t, headDim] (null for a layer not yet appended to). */
  readonly v: (Tensor | null)[];
  private readonly bufK: (Tensor | null)[];
  private readonly bufV: (Tensor | null)[];
  /** Whether layer's k, v are views of its buffers (false after a concatenating append). */
  private readonly inBuf: boolean[];
  constructor(
    nLayers: number,
    /** Positions the preallocated buffers hold (default 0: no buffers, every append concatenates). */
    readonly capacity = 0,
  ) {
    this.k = new Array<Tensor | null>(nLayers).fill(null);
    this.v = new Array<Tensor | null>(nLayers).fill(null);
    this.bufK = new Array<Tensor | null>(nLayers).fill(null);
    this.bufV = new Array<Tensor | null>(nLayers).fill(null);
    this.inBuf = new Array<boolean>(nLayers).fill(false);
  }
  /** How many positions are cached (0 when empty). */
  get length(): number {
    return this.k[0]?.shape[2] ?? 0;
  }
  /** Appends k, v [B, H, t, hd] to layer's cache; returns everything cached for it. */
  append(layer: number, k: Tensor, v: Tensor): [Tensor, Tensor] {
    const pk = this.k[layer] ?? null;
    const pv = this.v[layer] ?? null;
    const past = pk?.shape[2] ?? 0;
    const [b, h, t, hd] = k.shape as [number, number, number, number];
    const graph = isGradEnabled() && (k.requiresGrad || v.requiresGrad);
    if (this.capacity > 0 && !graph) {
      if (past + t > this.capacity)
        throw new DescentError(`KVCache: ${past} cached + ${t} new positions exceed its capacity ${this.capacity}`);
      let bk = this.bufK[layer] ?? null;
      let bv = this.bufV[layer] ?? null;
      const shape = [b, h, this.capacity, hd];
      if (!bk || !bv || bk.dtype !== k.dtype || shape.some((n, i) => n !== bk!.shape[i])) {
        bk = this.bufK[layer] = zeros(shape, { dtype: k.dtype });
        bv = this.bufV[layer] = zeros(shape, { dtype: v.dtype });
        this.inBuf[layer] = false;
      }
      // A prefix made by concatenation (an earlier append under autograd) moves into the buffer once.
      if (pk && pv && !this.inBuf[layer]) {
        bk.narrow(2, 0, past).copy_(pk);
        bv.narrow(2, 0, past).copy_(pv);
      }
      bk.narrow(2, past, t).copy_(k);
      bv.narrow(2, past, t).copy_(v);
      this.k[layer] = bk.narrow(2, 0, past + t);
      this.v[layer] = bv.narrow(2, 0, past + t);
      this.inBuf[layer] = true;
    } else {
      this.inBuf[layer] = false;
      this.k[layer] = pk && pv ? cat([pk, k], 2) : k;
      this.v[layer] = pk && pv ? cat([pv, v], 2) : v;
    }
    return [this.k[layer]!, this.v[layer]!];
  }
}

function checkConfig(c: GPTConfig): Required<GPTConfig> {
  if (c === null || typeof c !== "object") throw new DescentError(`GPT: expected a config object, got ${String(c)}`);
  checkOptions("GPT", c, GPT_CONFIG_KEYS);
  for (const key of ["vocabSize", "contextLength", "dModel", "nHeads", "nLayers"] as const) {
    const v = c[key];
    if (!Number.isInteger(v) || v < 1)
      throw new DescentError(`GPT: config.${key} must be a positive integer, got ${v}`);
  }
  if (c.dModel % c.nHeads !== 0)
    throw new DescentError(`GPT: config.dModel (${c.dModel}) must be divisible by config.nHeads (${c.nHeads})`);
  const dropout = c.dropout ?? 0;
  F.checkDropoutP("GPT", dropout);
  return { ...c, dropout };
}

/** Multi-head causal self-attention: one Linear makes q, k and v; another projects the heads back. */
export class CausalSelfAttention extends Module {
  /** Linear d → 3·d making the queries, keys and values of all heads at once. */
  qkv: Linear;
  /** Output projection d → d of the concatenated heads. */
  proj: Linear;
  /** Dropout on the output (the residual branch). */
  residDrop: Dropout;
  constructor(
    /** Model width d. */
    readonly dModel: number,
    /** Number of heads (head size dModel / nHeads). */
    readonly nHeads: number,
    /** Dropout probability on the attention weights (in training only) and on the output. */
    readonly dropout: number,
  ) {
    super();
    this.qkv = new Linear(dModel, 3 * dModel);
    this.proj = new Linear(dModel, dModel);
    this.residDrop = new Dropout(dropout);
  }

  /** x [B, T, d] → [B, T, d]; with a cache, layer's keys/values are appended and attended over. */
  forward(x: Tensor, cache?: KVCache, layer = 0): Tensor {
    const [b, t, d] = x.shape as [number, number, number];
    const h = this.nHeads;
    const heads = (u: Tensor) => u.reshape(b, t, h, d / h).transpose(1, 2); // [B, H, T, hd]
    const [q, k0, v0] = this.qkv.forward(x).split(d, 2).map(heads) as [Tensor, Tensor, Tensor];
    const [k, v] = cache ? cache.append(layer, k0, v0) : [k0, v0];
    const y = attend(q, k, v, this.training ? this.dropout : 0);
    return this.residDrop.forward(this.proj.forward(y.transpose(1, 2).reshape(b, t, d)));
  }
}

/** The position-wise feed-forward part: d → 4·d → GELU → d. */
export class MLP extends Module {
  /** Linear d → 4·d (the expansion before GELU). */
  fc: Linear;
  /** Linear 4·d → d back to the residual stream. */
  proj: Linear;
  /** Dropout on the output (the residual branch). */
  drop: Dropout;
  constructor(dModel: number, dropout: number) {
    super();
    this.fc = new Linear(dModel, 4 * dModel);
    this.proj = new Linear(4 * dModel, dModel);
    this.drop = new Dropout(dropout);
  }
  forward(x: Tensor): Tensor {
    return this.drop.forward(this.proj.forward(F.gelu(this.fc.forward(x))));
  }
}

/** x + attn(ln1(x)), then + mlp(ln2(·)): the pre-LayerNorm residual block of GPT-2. */
export class Block extends Module {
  /** LayerNorm before attention. */
  ln1: LayerNorm;
  /** Causal multi-head self-attention. */
  attn: CausalSelfAttention;
  /** LayerNorm before the MLP. */
  ln2: LayerNorm;
  /** Position-wise feed-forward network d → 4·d → d. */
  mlp: MLP;
  constructor(dModel: number, nHeads: number, dropout: number) {
    super();
    this.ln1 = new LayerNorm(dModel);
    this.attn = new CausalSelfAttention(dModel, nHeads, dropout);
    this.ln2 = new LayerNorm(dModel);
    this.mlp = new MLP(dModel, dropout);
  }
  forward(x: Tensor, cache?: KVCache, layer = 0): Tensor {
    const a = x.add(this.attn.forward(this.ln1.forward(x), cache, layer));
    return a.add(this.mlp.forward(this.ln2.forward(a)));
  }
}

/**
 * A decoder-only transformer language model in the shape of nanoGPT / GPT-2: token and position
 * embeddings, nLayers pre-LayerNorm blocks, a final LayerNorm and an untied linear head.
 * forward(idx) maps int token ids [B, T] (T ≤ contextLength) to logits [B, T, vocabSize]; with a
 * KVCache (newCache()) it processes only the new positions and attends over the cached ones.
 *
 * @example
 * ```ts
 * const model = new nn.GPT({ vocabSize: 65, contextLength: 256, dModel: 384, nHeads: 6, nLayers: 6 });
 * const logits = model.forward(idx); // idx [B, T] → [B, T, 65]
 * ```
 */
export class GPT extends Module {
  /** The validated configuration (dropout filled in with its default 0), frozen. */
  declare readonly config: Readonly<Required<GPTConfig>>;
  /** Token embedding [vocabSize, dModel]. */
  tokEmb: Embedding;
  /** Position embedding [contextLength, dModel]. */
  posEmb: Embedding;
  /** Dropout after the summed embeddings. */
  drop: Dropout;
  /** The nLayers transformer Blocks. */
  blocks: ModuleList;
  /** Final LayerNorm before the head. */
  lnF: LayerNorm;
  /** Linear head dModel → vocabSize, without bias (not tied to tokEmb). */
  head: Linear;

  constructor(config: GPTConfig) {
    super();
    const c = checkConfig(config);
    Object.defineProperty(this, "config", { value: Object.freeze(c), enumerable: false });
    this.tokEmb = new Embedding(c.vocabSize, c.dModel);
    this.posEmb = new Embedding(c.contextLength, c.dModel);
    this.drop = new Dropout(c.dropout);
    this.blocks = new ModuleList(Array.from({ length: c.nLayers }, () => new Block(c.dModel, c.nHeads, c.dropout)));
    this.lnF = new LayerNorm(c.dModel);
    this.head = new Linear(c.dModel, c.vocabSize, { bias: false });
    this.resetParameters();
  }

  /** nanoGPT's _init_weights plus its scaled init of the residual projections. */
  resetParameters(): void {
    for (const [name, m] of this.namedModules()) {
      if (m instanceof Linear) {
        const residual = name.endsWith("attn.proj") || name.endsWith("mlp.proj");
        normal_(m.weight, 0, residual ? 0.02 / Math.sqrt(2 * this.config.nLayers) : 0.02);
        if (m.bias) zeros_(m.bias);
      } else if (m instanceof Embedding) normal_(m.weight, 0, 0.02);
    }
  }

  /**
   * idx [B, T] int32 token ids → logits [B, T, vocabSize]. With a cache, idx holds the positions
   * after the cached ones (their position embeddings start at cache.length) and the cache grows by T.
   */
  forward(idx: Tensor, cache?: KVCache): Tensor {
    const c = this.config;
    if (idx.ndim !== 2 || idx.dtype !== "int32")
      throw new DescentError(`GPT.forward: expected int32 token ids [B, T], got ${idx.dtype} ${shapeStr(idx.shape)}`);
    const past = cache?.length ?? 0;
    const t = idx.shape[1]!;
    if (past + t > c.contextLength)
      throw new DescentError(
        `GPT.forward: ${past} cached + ${t} new positions exceed config.contextLength ${c.contextLength}`,
      );
    if (cache && cache.k.length !== c.nLayers)
      throw new DescentError(`GPT.forward: the cache has ${cache.k.length} layers, the model ${c.nLayers}`);
    const pos = arange(past, past + t, 1, { dtype: "int32" });
    let x = this.drop.forward(this.tokEmb.forward(idx).add(this.posEmb.forward(pos)));
    const blocks = this.blocks.children() as Block[];
    blocks.forEach((blk, i) => (x = blk.forward(x, cache, i)));
    return this.head.forward(this.lnF.forward(x));
  }

  /** Samples maxNewTokens tokens after the prompt (see generate.ts); returns int32 [B, T + maxNewTokens]. */
  generate(prompt: Tensor | readonly number[], opts: GenerateOptions): Tensor {
    return generate(this, prompt, opts);
  }

  /** A fresh, empty cache for this model. */
  newCache(): KVCache {
    return new KVCache(this.config.nLayers, this.config.contextLength);
  }

  override extraRepr(): string {
    const c = this.config;
    return `vocab_size=${c.vocabSize}, context_length=${c.contextLength}, d_model=${c.dModel}, n_heads=${c.nHeads}, n_layers=${c.nLayers}`;
  }
}
