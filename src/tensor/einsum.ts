// einsum lowered to existing ops, so its gradient is theirs and its speed the GEMM's: a repeated
// subscript is a diagonal view (ops/strided.ts), a subscript no other operand or the output needs
// is summed at once, and operands are contracted pairwise left to right (as torch.einsum without
// opt_einsum) by one batched matmul: shared kept subscripts are the batch, summed ones the inner
// dim. A pair with nothing to sum is a broadcast multiply instead. einsum_parse.ts reads the equation.

import { DescentError, shapeStr } from "../core/errors.js";
import { Diagonal } from "../ops/strided.js";
import { apply } from "./apply.js";
import { parseEinsum, type Label } from "./einsum_parse.js";
import { Tensor } from "./tensor.js";

/** A tensor with a label per dim. */
interface Labeled {
  t: Tensor;
  labels: Label[];
}

/**
 * torch.einsum: `einsum("bij,bjk->bik", a, b)`. Any equation PyTorch accepts: implicit or explicit
 * output, `...` with broadcasting, repeated subscripts (diagonals), any number of operands.
 */
export function einsum(equation: string, ...operands: (Tensor | readonly Tensor[])[]): Tensor {
  const ops = operands.flat(); // einsum(eq, [a, b]) as torch allows
  const bad = ops.findIndex((t) => !(t instanceof Tensor));
  if (bad >= 0) throw new DescentError(`einsum: operand ${bad} of "${String(equation)}" is not a Tensor`);
  const p = parseEinsum(
    equation,
    ops.map((t) => t.shape),
  );
  const dtype = ops[0]!.dtype;
  if (ops.some((t) => t.dtype !== dtype))
    throw new DescentError(
      `einsum: operands of "${equation}" have different dtypes (${ops.map((t) => `${shapeStr(t.shape)} ${t.dtype}`).join(", ")}); convert them with to()`,
    );
  const out = new Set(p.output);
  const xs = ops.map((t, k) => diagonal({ t, labels: p.inputs[k]! }));
  // Sum each operand's subscripts that neither the output nor another operand names.
  const reduced = xs.map((x, k) =>
    sumOut(x, (l) => out.has(l) || p.inputs.some((other, j) => j !== k && other.includes(l))),
  );
  let acc = reduced[0]!;
  for (let k = 1; k < reduced.length; k++) {
    const later = new Set([...out, ...p.inputs.slice(k + 1).flat()]);
    acc = contract(acc, reduced[k]!, later);
  }
  acc = sumOut(acc, (l) => out.has(l));
  return arrange(acc, p.output);
}

/** Repeated labels of one operand become one dim: a strided view walking their diagonal. */
function diagonal(x: Labeled): Labeled {
  const unique = [...new Set(x.labels)];
  if (unique.length === x.labels.length) return x;
  const groups = unique.map((l) => x.labels.flatMap((m, d) => (m === l ? [d] : [])));
  return { t: apply(Diagonal, [x.t], groups), labels: unique };
}

/** Sums the dims whose label `keep` refuses. */
function sumOut(x: Labeled, keep: (l: Label) => boolean): Labeled {
  const dims = x.labels.flatMap((l, d) => (keep(l) ? [] : [d]));
  if (dims.length === 0) return x;
  return { t: x.t.sum(dims), labels: x.labels.filter((l) => keep(l)) };
}

/** x's dims reordered (and size-1 dims inserted for missing labels) to follow `order`. */
function arrange(x: Labeled, order: readonly Label[]): Tensor {
  const present = order.filter((l) => x.labels.includes(l));
  const t = x.t.permute(present.map((l) => x.labels.indexOf(l)));
  if (present.length === order.length) return t;
  return t.reshape(order.map((l) => (x.labels.includes(l) ? x.t.shape[x.labels.indexOf(l)]! : 1)));
}

function sizeIn(x: Labeled, l: Label): number {
  return x.t.shape[x.labels.indexOf(l)]!;
}

const product = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/** a ⊗ b summed over their shared labels that `keep` does not hold. */
function contract(a: Labeled, b: Labeled, keep: ReadonlySet<Label>): Labeled {
  a = sumOut(a, (l) => keep.has(l) || b.labels.includes(l));
  b = sumOut(b, (l) => keep.has(l) || a.labels.includes(l));
  let summed = a.labels.filter((l) => b.labels.includes(l) && !keep.has(l));
  // A summed label of size 1 on one side (broadcast): Σ_k a·b_k = a·Σ_k b_k, so sum it on its own.
  for (const l of summed) {
    if (sizeIn(a, l) === sizeIn(b, l)) continue;
    const drop = (x: Labeled): Labeled =>
      sizeIn(x, l) === 1
        ? { t: x.t.squeeze(x.labels.indexOf(l)), labels: x.labels.filter((m) => m !== l) }
        : sumOut(x, (m) => m !== l);
    a = drop(a);
    b = drop(b);
  }
  summed = summed.filter((l) => a.labels.includes(l));
  const batch = a.labels.filter((l) => b.labels.includes(l) && keep.has(l));
  const aOnly = a.labels.filter((l) => !b.labels.includes(l));
  const bOnly = b.labels.filter((l) => !a.labels.includes(l));
  const labels = [...batch, ...aOnly, ...bOnly];
  if (summed.length === 0) {
    // An outer or element-wise product: one broadcast multiply, no GEMM of inner size 1.
    return { t: arrange(a, labels).mul(arrange(b, labels)), labels };
  }
  const sizes = (x: Labeled, ls: readonly Label[]) => ls.map((l) => sizeIn(x, l));
  const m = product(sizes(a, aOnly));
  const k = product(sizes(a, summed));
  const n = product(sizes(b, bOnly));
  const am = arrange(a, [...batch, ...aOnly, ...summed]).reshape([...sizes(a, batch), m, k]);
  const bm = arrange(b, [...batch, ...summed, ...bOnly]).reshape([...sizes(b, batch), k, n]);
  const prod = am.matmul(bm);
  const batchOut = prod.shape.slice(0, batch.length);
  return { t: prod.reshape([...batchOut, ...sizes(a, aOnly), ...sizes(b, bOnly)]), labels };
}
