// Recurrent layers: RNN (tanh or relu), LSTM and GRU, multi-layer and bidirectional, with PyTorch's
// parameter names, layouts, gate orders and state-dict order, so weights move both ways unchanged.
//
// Per layer and direction the input projection x·W_ihᵀ (+ biases) is one GEMM over every time step;
// only h·W_hhᵀ runs per step. LSTM and GRU then run the whole time loop as one op (lstmSequence /
// gruSequence: fused cells, no graph node per step, dW_hh as one GEMM). RNN records each step; its
// projection is split into steps by halving (see unbindSteps) so the backward costs O(size·log T)
// rather than the O(size·T) of T separate slices, since a slice's gradient is its parent's size.

import type { DType } from "../../core/dtype.js";
import { DescentError, shapeStr } from "../../core/errors.js";
import { checkOptions, keysOf, mergeKeys } from "../../core/options.js";
import { noGrad } from "../../autograd/graph.js";
import { cat, stack, type Tensor } from "../../tensor/tensor.js";
import { zeros } from "../../tensor/creation.js";
import { gruSequence, lstmSequence } from "../../tensor/rnn.js";
import { dropout } from "../functional/activation.js";
import { Module, Parameter } from "../module.js";

/** Which recurrence an RNNBase runs. */
export type RNNMode = "RNN_TANH" | "RNN_RELU" | "LSTM" | "GRU";

/** Options of RNN, LSTM and GRU (PyTorch's keyword arguments, camelCased). */
export interface RNNOptions {
  /** Stacked recurrent layers (default 1). */
  numLayers?: number;
  /** Input and output as [N, T, ·] instead of [T, N, ·] (the hidden state keeps [layers·D, N, H]). */
  batchFirst?: boolean;
  /** Whether the layers have bias_ih / bias_hh (default true). */
  bias?: boolean;
  /** Dropout probability on the outputs of every layer but the last, in training mode only (default 0). */
  dropout?: number;
  /** Adds a backward-in-time direction per layer whose parameters end in `_reverse` (default false). */
  bidirectional?: boolean;
  /** Parameter dtype (PyTorch's `dtype=` factory argument); default float32. */
  dtype?: "float32" | "float64";
}

/** The keys of RNNOptions, for checkOptions. */
const RNN_KEYS = keysOf<RNNOptions>()({
  numLayers: true,
  batchFirst: true,
  bias: true,
  dropout: true,
  bidirectional: true,
  dtype: true,
});

const ELMAN_KEYS = mergeKeys(RNN_KEYS, new Set(["nonlinearity"]));

const GATES: Record<RNNMode, number> = { RNN_TANH: 1, RNN_RELU: 1, LSTM: 4, GRU: 3 };

interface Weights {
  wih: Tensor;
  whh: Tensor;
  bih: Tensor | null;
  bhh: Tensor | null;
}

/** The shared machinery of RNN, LSTM and GRU (PyTorch's RNNBase). */
export abstract class RNNBase extends Module {
  /** Features of each input step. */
  readonly inputSize: number;
  /** Features of the hidden state. */
  readonly hiddenSize: number;
  /** Stacked layers. */
  readonly numLayers: number;
  /** Whether the layers have biases. */
  readonly bias: boolean;
  /** Input and output are [N, T, ·] rather than [T, N, ·]. */
  readonly batchFirst: boolean;
  /** Dropout between stacked layers in training. */
  readonly dropout: number;
  /** Runs each layer forwards and backwards. */
  readonly bidirectional: boolean;
  declare private readonly mode: RNNMode;

  constructor(mode: RNNMode, inputSize: number, hiddenSize: number, opts: RNNOptions = {}) {
    super();
    const name = layerName(mode);
    checkOptions(name, opts, mode === "RNN_TANH" || mode === "RNN_RELU" ? ELMAN_KEYS : RNN_KEYS);
    const { numLayers = 1, batchFirst = false, bias = true, dropout = 0, bidirectional = false } = opts;
    const dtype: DType = opts.dtype ?? "float32";
    const posInt = (v: number, what: string, min: number) => {
      if (!Number.isInteger(v) || v < min)
        throw new DescentError(`${name}: ${what} must be an integer ≥ ${min}, got ${v}`);
    };
    posInt(inputSize, "inputSize", 1);
    posInt(hiddenSize, "hiddenSize", 1);
    posInt(numLayers, "numLayers", 1);
    if (typeof dropout !== "number" || !(dropout >= 0 && dropout <= 1))
      throw new DescentError(`${name}: dropout must be a probability in [0, 1], got ${dropout}`);
    if (dtype !== "float32" && dtype !== "float64")
      throw new DescentError(`${name}: dtype must be float32 or float64, got ${String(dtype)}`);
    Object.defineProperty(this, "mode", { value: mode, enumerable: false });
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.numLayers = numLayers;
    this.bias = bias;
    this.batchFirst = batchFirst;
    this.dropout = dropout;
    this.bidirectional = bidirectional;

    // Registration order is PyTorch's: per layer, per direction, weight_ih, weight_hh, bias_ih, bias_hh.
    const rows = GATES[mode] * hiddenSize;
    for (let layer = 0; layer < numLayers; layer++) {
      const cols = layer === 0 ? inputSize : hiddenSize * this.numDirections;
      for (let dir = 0; dir < this.numDirections; dir++) {
        const sfx = `_l${layer}${dir === 1 ? "_reverse" : ""}`;
        this.registerParameter(`weight_ih${sfx}`, new Parameter(zeros([rows, cols], { dtype })));
        this.registerParameter(`weight_hh${sfx}`, new Parameter(zeros([rows, hiddenSize], { dtype })));
        if (bias) {
          this.registerParameter(`bias_ih${sfx}`, new Parameter(zeros([rows], { dtype })));
          this.registerParameter(`bias_hh${sfx}`, new Parameter(zeros([rows], { dtype })));
        }
      }
    }
    this.resetParameters();
  }

  /** 2 when bidirectional, else 1. */
  get numDirections(): number {
    return this.bidirectional ? 2 : 1;
  }

  /** PyTorch's default: every weight and bias drawn from U(-1/√H, 1/√H), in registration order. */
  resetParameters(): void {
    const k = 1 / Math.sqrt(this.hiddenSize);
    noGrad(() => {
      for (const p of this.parameters()) p.uniform_(-k, k);
    });
  }

  override extraRepr(): string {
    let s = `${this.inputSize}, ${this.hiddenSize}`;
    if (this.numLayers !== 1) s += `, num_layers=${this.numLayers}`;
    if (!this.bias) s += ", bias=False";
    if (this.batchFirst) s += ", batch_first=True";
    if (this.dropout !== 0) s += `, dropout=${this.dropout}`;
    if (this.bidirectional) s += ", bidirectional=True";
    return s;
  }

  /**
   * Runs every layer and direction. input: [T, N, I] ([N, T, I] when batchFirst) or unbatched [T, I];
   * h0 (and c0 for LSTM): [layers·D, N, H] ([layers·D, H] unbatched) or null for zeros.
   */
  protected run(
    input: Tensor,
    h0: Tensor | null,
    c0: Tensor | null,
  ): { output: Tensor; hN: Tensor; cN: Tensor | null } {
    const name = layerName(this.mode);
    const lstm = this.mode === "LSTM";
    const H = this.hiddenSize;
    const D = this.numDirections;
    const batched = input.ndim === 3;
    if (input.ndim !== 2 && input.ndim !== 3) {
      throw new DescentError(
        `${name}: expected a 3-D input [${this.batchFirst ? "N, T" : "T, N"}, ${this.inputSize}] or an unbatched 2-D input [T, ${this.inputSize}], got shape ${shapeStr(input.shape)}`,
      );
    }
    if (input.shape[input.ndim - 1] !== this.inputSize) {
      throw new DescentError(
        `${name}: input has ${input.shape[input.ndim - 1]} features in its last dim (shape ${shapeStr(input.shape)}), expected inputSize ${this.inputSize}`,
      );
    }
    const dtype = this.weights(0, 0).wih.dtype;
    if (input.dtype !== dtype) {
      throw new DescentError(
        `${name}: input dtype ${input.dtype} does not match the parameters' ${dtype}; convert one with to()`,
      );
    }
    // x: [T, N, I], contiguous so that the projection folds into one 2-D GEMM.
    const x = (batched ? (this.batchFirst ? input.transpose(0, 1) : input) : input.unsqueeze(1)).contiguous();
    const T = x.shape[0]!;
    const N = x.shape[1]!;
    if (T === 0)
      throw new DescentError(`${name}: expected a sequence length > 0, got input shape ${shapeStr(input.shape)}`);
    const stateShape = batched ? [this.numLayers * D, N, H] : [this.numLayers * D, H];
    const state = (s: Tensor | null, what: string): Tensor | null => {
      if (s === null) return null;
      if (s.ndim !== stateShape.length || s.shape.some((d, i) => d !== stateShape[i])) {
        throw new DescentError(
          `${name}: expected ${what} of shape ${shapeStr(stateShape)} for input ${shapeStr(input.shape)}, got ${shapeStr(s.shape)}`,
        );
      }
      if (s.dtype !== dtype) throw new DescentError(`${name}: ${what} has dtype ${s.dtype}, expected ${dtype}`);
      return batched ? s : s.unsqueeze(1);
    };
    const h0b = state(h0, lstm ? "h0" : "hx");
    const c0b = state(c0, "c0");
    const zero = h0b && (!lstm || c0b) ? null : zeros([N, H], { dtype });

    let layerIn = x;
    const hs: Tensor[] = [];
    const cs: Tensor[] = [];
    for (let layer = 0; layer < this.numLayers; layer++) {
      const outs: Tensor[] = [];
      for (let dir = 0; dir < D; dir++) {
        const idx = layer * D + dir;
        const w = this.weights(layer, dir);
        const h = h0b ? h0b.select(0, idx) : zero!;
        const c = lstm ? (c0b ? c0b.select(0, idx) : zero!) : null;
        const r = this.direction(layerIn, w, h, c, dir === 1);
        outs.push(r.out);
        hs.push(r.h);
        if (r.c) cs.push(r.c);
      }
      layerIn = D === 1 ? outs[0]! : cat(outs, 2);
      if (this.training && this.dropout > 0 && layer < this.numLayers - 1) layerIn = dropout(layerIn, this.dropout);
    }
    const output = batched ? (this.batchFirst ? layerIn.transpose(0, 1) : layerIn) : layerIn.squeeze(1);
    const fin = (ts: Tensor[]) => (batched ? stack(ts, 0) : stack(ts, 0).squeeze(1));
    return { output, hN: fin(hs), cN: lstm ? fin(cs) : null };
  }

  /** One direction of one layer over the whole sequence: x [T, N, In] → out [T, N, H] and the last state. */
  private direction(
    x: Tensor,
    w: Weights,
    h: Tensor,
    c: Tensor | null,
    reverse: boolean,
  ): { out: Tensor; h: Tensor; c: Tensor | null } {
    const H = this.hiddenSize;
    const T = x.shape[0]!;
    let proj = x.matmul(w.wih.transpose(0, 1)); // [T, N, G·H]: every step's input term in one GEMM
    const whhT = w.whh.transpose(0, 1);
    let bhn: Tensor | null = null;
    if (w.bih && w.bhh) {
      if (this.mode === "GRU") {
        // b_hr and b_hz fold into the projection; b_hn stays inside r ⊙ (W_hn h + b_hn).
        proj = proj.add(w.bih.add(cat([w.bhh.narrow(0, 0, 2 * H), w.bhh.newZeros([H])], 0)));
        bhn = w.bhh.narrow(0, 2 * H, H);
      } else {
        proj = proj.add(w.bih.add(w.bhh));
      }
    }
    if (this.mode === "LSTM") return lstmSequence(proj, w.whh, h, c!, reverse);
    if (this.mode === "GRU") return { ...gruSequence(proj, w.whh, h, bhn, reverse), c: null };
    const steps = unbindSteps(proj);
    const outs = new Array<Tensor>(T);
    for (let k = 0; k < T; k++) {
      const t = reverse ? T - 1 - k : k;
      const xt = steps[t]!;
      const gh = h.matmul(whhT);
      switch (this.mode) {
        case "RNN_TANH":
          h = xt.add(gh).tanh();
          break;
        case "RNN_RELU":
          h = xt.add(gh).relu();
          break;
      }
      outs[t] = h;
    }
    return { out: stack(outs, 0), h, c };
  }

  private weights(layer: number, dir: number): Weights {
    const sfx = `_l${layer}${dir === 1 ? "_reverse" : ""}`;
    const get = (k: string) => (this as unknown as Record<string, Tensor | null | undefined>)[k + sfx] ?? null;
    const wih = get("weight_ih");
    const whh = get("weight_hh");
    if (!wih || !whh)
      throw new DescentError(`${layerName(this.mode)}: parameter weight_ih${sfx} or weight_hh${sfx} is missing`);
    return { wih, whh, bih: get("bias_ih"), bhh: get("bias_hh") };
  }
}

/** Elman RNN: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu). `forward(x, h0?)` → `[output, hN]`. */
export class RNN extends RNNBase {
  /** The activation (default "tanh"). */
  readonly nonlinearity: "tanh" | "relu";

  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions & { nonlinearity?: "tanh" | "relu" } = {}) {
    const nl = opts.nonlinearity ?? "tanh";
    if (nl !== "tanh" && nl !== "relu")
      throw new DescentError(`RNN: nonlinearity must be "tanh" or "relu", got ${String(nl)}`);
    super(nl === "tanh" ? "RNN_TANH" : "RNN_RELU", inputSize, hiddenSize, opts);
    this.nonlinearity = nl;
  }

  forward(input: Tensor, hx: Tensor | null = null): [Tensor, Tensor] {
    const r = this.run(input, hx, null);
    return [r.output, r.hN];
  }
}

/** LSTM with gates i, f, g, o. `forward(x, [h0, c0]?)` → `[output, [hN, cN]]`. */
export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions = {}) {
    super("LSTM", inputSize, hiddenSize, opts);
  }

  forward(input: Tensor, state: readonly [Tensor, Tensor] | null = null): [Tensor, [Tensor, Tensor]] {
    if (state !== null && (!Array.isArray(state) || state.length !== 2))
      throw new DescentError("LSTM: the initial state must be a pair [h0, c0]");
    const r = this.run(input, state?.[0] ?? null, state?.[1] ?? null);
    return [r.output, [r.hN, r.cN!]];
  }
}

/** GRU with gates r, z, n; n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)). `forward(x, h0?)` → `[output, hN]`. */
export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions = {}) {
    super("GRU", inputSize, hiddenSize, opts);
  }

  forward(input: Tensor, hx: Tensor | null = null): [Tensor, Tensor] {
    const r = this.run(input, hx, null);
    return [r.output, r.hN];
  }
}

function layerName(mode: RNNMode): string {
  return mode === "LSTM" ? "LSTM" : mode === "GRU" ? "GRU" : "RNN";
}

/**
 * x [T, …] → T tensors [...], by halving: each slice's gradient is as large as the tensor it was cut
 * from, so T direct slices would cost T full-size tensors in backward, halving only log₂T.
 */
function unbindSteps(x: Tensor): Tensor[] {
  const rest = x.shape.slice(1);
  const out: Tensor[] = [];
  const split = (t: Tensor) => {
    const n = t.shape[0]!;
    if (n === 1) {
      out.push(t.reshape(rest));
      return;
    }
    const half = n >> 1;
    split(t.narrow(0, 0, half));
    split(t.narrow(0, half, n - half));
  };
  split(x);
  return out;
}
