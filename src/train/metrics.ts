// Metrics for the training loop: per-batch counts that fit and evaluate add up over an epoch.

import { DescentError } from "../core/errors.js";
import { noGrad } from "../autograd/graph.js";
import type { Tensor } from "../tensor/tensor.js";

/** The metrics fit and evaluate know: the mean loss and the classification accuracy. */
export type MetricName = "loss" | "accuracy";

/**
 * The number of correctly classified samples in a batch. output holds class scores [N, C] (logits,
 * log-probabilities or probabilities: the largest wins); target holds class indices [N] (int32, or
 * a float tensor of whole numbers) or one row of probabilities per sample [N, C] (its largest entry
 * is the class). Samples whose target index is negative (an ignoreIndex such as -100) are not counted
 * as correct.
 */
export function correctCount(output: Tensor, target: Tensor): number {
  return noGrad(() => {
    if (output.ndim !== 2) {
      throw new DescentError(
        `accuracy: expected class scores of shape [N, C], got [${output.shape.join(", ")}]; accuracy applies to classification models only`,
      );
    }
    const n = output.shape[0]!;
    const classes =
      target.ndim === 2 && target.shape[1] === output.shape[1] && target.shape[1]! > 1 ? target.argmax(1) : target;
    if (classes.ndim !== 1 || classes.shape[0] !== n) {
      throw new DescentError(
        `accuracy: expected targets of shape [${n}] (class indices) or [${n}, ${output.shape[1]}] (probabilities) for scores of shape [${output.shape.join(", ")}], got [${target.shape.join(", ")}]`,
      );
    }
    const pred = output.argmax(1).toFlatArray();
    const want = classes.toFlatArray();
    let correct = 0;
    for (let i = 0; i < n; i++) if (pred[i] === want[i]) correct++;
    return correct;
  });
}

/** accuracy(output, target): the fraction of samples classified correctly (see correctCount). */
export function accuracy(output: Tensor, target: Tensor): number {
  const n = output.shape[0] ?? 0;
  return n === 0 ? NaN : correctCount(output, target) / n;
}

/** Sums loss · batch size and correct counts over batches; means on demand. */
export class MetricAccumulator {
  /** Samples recorded so far. */
  samples = 0;
  private lossSum = 0;
  private correct = 0;

  /** Records one batch: its mean loss (if computed) and, when wanted, its correct count. */
  add(batchSize: number, loss: number | null, correct: number | null): void {
    this.samples += batchSize;
    if (loss !== null) this.lossSum += loss * batchSize;
    if (correct !== null) this.correct += correct;
  }

  /** The running sums, for a mid-epoch checkpoint. */
  getState(): { samples: number; lossSum: number; correct: number } {
    return { samples: this.samples, lossSum: this.lossSum, correct: this.correct };
  }

  /** Restores the running sums from getState() (resuming mid-epoch). */
  setState(st: { samples: number; lossSum: number; correct: number }): void {
    this.samples = st.samples;
    this.lossSum = st.lossSum;
    this.correct = st.correct;
  }

  /** Mean loss per sample (NaN before any sample). */
  get loss(): number {
    return this.samples === 0 ? NaN : this.lossSum / this.samples;
  }

  /** Fraction correct (NaN before any sample). */
  get accuracy(): number {
    return this.samples === 0 ? NaN : this.correct / this.samples;
  }
}
