// Dropout: zeroes each element with probability p in training mode and scales the rest by 1/(1-p);
// the identity in eval mode.

import type { Tensor } from "../../tensor/tensor.js";
import { checkOptions } from "../../core/options.js";
import { Module } from "../module.js";
import * as F from "../functional/activation.js";
import { pyBool, pyFloat } from "../repr.js";

/** The keys of the dropout layers' options object (a number p is accepted in its place). */
export const DROPOUT_KEYS: ReadonlySet<string> = new Set(["p"]);

/**
 * Dropout (torch.nn.Dropout): in training, zeroes each element with probability p and scales the
 * rest by 1/(1 − p); the identity in eval mode. Any shape.
 */
export class Dropout extends Module {
  /** Probability of zeroing an element (default 0.5). */
  p: number;
  constructor(p: number | { p?: number } = 0.5) {
    super();
    if (typeof p !== "number") checkOptions("Dropout", p, DROPOUT_KEYS);
    this.p = typeof p === "number" ? p : (p.p ?? 0.5);
    F.checkDropoutP("Dropout", this.p);
  }
  forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.training);
  }
  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=${pyBool(false)}`;
  }
}
