// Embedding: a lookup table [num, dim] indexed by int32 tensors of any shape. Weights ~ N(0, 1) as
// PyTorch; the padding row (if any) starts at zero and never receives a gradient.

import { zeros } from "../../tensor/creation.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { DType } from "../../core/dtype.js";
import { DescentError, shapeStr } from "../../core/errors.js";
import { checkOptions, keysOf, dtypeOption } from "../../core/options.js";
import { noGrad } from "../../autograd/graph.js";
import { Module, Parameter } from "../module.js";
import * as F from "../functional/activation.js";
import { normal_ } from "../init.js";

/** Options of Embedding. */
export interface EmbeddingOptions {
  /** Row whose output passes no gradient (negative counts from the end); zero-initialised. */
  paddingIdx?: number | null;
  /** Parameter dtype (default float32). */
  dtype?: DType;
}

/** The keys of EmbeddingOptions, for checkOptions. */
const EMBEDDING_KEYS = keysOf<EmbeddingOptions>()({ paddingIdx: true, dtype: true });

const PRETRAINED_KEYS = keysOf<{ freeze?: boolean; paddingIdx?: number | null }>()({ freeze: true, paddingIdx: true });

/**
 * A lookup table (torch.nn.Embedding): int32 indices [*] → [*, embeddingDim], rows of weight
 * [numEmbeddings, embeddingDim] ~ N(0, 1).
 */
export class Embedding extends Module {
  /** Rows of the table (the vocabulary size). */
  numEmbeddings: number;
  /** Width of each row. */
  embeddingDim: number;
  /** The row that gets no gradient, or null. */
  paddingIdx: number | null;
  /** [numEmbeddings, embeddingDim]. */
  weight: Parameter;

  constructor(numEmbeddings: number, embeddingDim: number, opts: EmbeddingOptions = {}) {
    super();
    checkOptions("Embedding", opts, EMBEDDING_KEYS);
    for (const [name, v] of [
      ["numEmbeddings", numEmbeddings],
      ["embeddingDim", embeddingDim],
    ] as const) {
      if (!Number.isInteger(v) || v < 0)
        throw new DescentError(`Embedding: ${name} must be a non-negative integer, got ${v}`);
    }
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    this.paddingIdx = F.normPaddingIdx("Embedding", opts.paddingIdx, numEmbeddings);
    this.weight = new Parameter(zeros([numEmbeddings, embeddingDim], { dtype: dtypeOption("Embedding", opts.dtype) }));
    this.resetParameters();
  }

  /** An Embedding holding (a copy of) the given [num, dim] weights; frozen (no gradient) by default. */
  static fromPretrained(embeddings: Tensor, opts: { freeze?: boolean; paddingIdx?: number | null } = {}): Embedding {
    checkOptions("Embedding.fromPretrained", opts, PRETRAINED_KEYS);
    if (embeddings.ndim !== 2)
      throw new DescentError(`Embedding.fromPretrained: embeddings must be 2-D, got ${shapeStr(embeddings.shape)}`);
    const e = new Embedding(embeddings.shape[0]!, embeddings.shape[1]!, {
      paddingIdx: opts.paddingIdx ?? null,
      dtype: embeddings.dtype,
    });
    noGrad(() => e.weight.copy_(embeddings));
    e.weight.requiresGrad = !(opts.freeze ?? true);
    return e;
  }

  /** Re-draws weight from N(0, 1) (the padding row zeroed). */
  resetParameters(): void {
    normal_(this.weight);
    const pad = this.paddingIdx;
    if (pad !== null) noGrad(() => this.weight.select(0, pad).fill_(0));
  }

  forward(indices: Tensor): Tensor {
    return F.embedding(indices, this.weight, this.paddingIdx);
  }

  override extraRepr(): string {
    const pad = this.paddingIdx !== null ? `, padding_idx=${this.paddingIdx}` : "";
    return `${this.numEmbeddings}, ${this.embeddingDim}${pad}`;
  }
}
