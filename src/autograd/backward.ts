// Reverse-mode differentiation: one topological walk from the output back to the leaves,
// calling each op's backward and summing the gradients of tensors used more than once.

import { DescentError, shapeStr } from "../core/errors.js";
import { sameShape } from "../core/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import { isAnomalyEnabled, noGrad, sameStorage, versionOf, withoutAnomaly, type Node } from "./graph.js";

/** Tensors reachable from root that need a gradient, each after every tensor computed from it. */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>([root]);
  const stack: [Tensor, number][] = [[root, 0]];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const inputs = top[0].gradFn?.inputs ?? [];
    if (top[1] < inputs.length) {
      const next = inputs[top[1]++]!;
      if (next.requiresGrad && !seen.has(next)) {
        seen.add(next);
        stack.push([next, 0]);
      }
    } else {
      order.push(top[0]);
      stack.pop();
    }
  }
  return order.reverse();
}

/**
 * Propagates `seed` (the gradient of root) to every leaf that requires grad, into `.grad`.
 * Gradients of a tensor used several times are summed in place into a buffer the walk owns (one it
 * allocated, never a gradient an op handed on, which may be aliased), and ops that can add their
 * input gradient straight into such a buffer (slices) do so instead of materialising a full one.
 */
export function runBackward(root: Tensor, seed: Tensor, retainGraph: boolean): void {
  const grads = new Map<Tensor, Tensor>([[root, seed]]);
  const owned = new Set<Tensor>();
  const give = (x: Tensor, gx: Tensor, fresh: boolean) => {
    const prev = grads.get(x);
    if (!prev) {
      grads.set(x, gx);
      if (fresh) owned.add(gx);
    } else if (owned.has(prev)) {
      prev.add_(gx);
    } else {
      const sum = prev.add(gx);
      grads.set(x, sum);
      owned.add(sum);
    }
  };
  noGrad(() => {
    for (const t of topoOrder(root)) {
      let g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      // From here on g may be handed to several inputs: never write into it again. But when the walk
      // owned it and no hook saw it, it has a single user still: a leaf may keep it as its .grad,
      // and a one-input op's gradient that is a view of it is owned in turn.
      const mine = owned.delete(g) && !t.hasHooks && !t.retainsGrad;
      g = t.runHooks(g);
      const node = t.gradFn;
      if (!node) {
        t.accumulateGrad(g, mine);
        continue;
      }
      if (t.retainsGrad) t.accumulateGrad(g);
      checkNode(node);
      const { op, inputs } = node;
      const acc = op.accumulate && inputs[0]!.requiresGrad ? grads.get(inputs[0]!) : undefined;
      if (acc && owned.has(acc)) {
        op.accumulate!(acc, g, inputs, t, node.params);
      } else {
        const inputGrads = withoutAnomaly(() => op.backward!(g!, inputs, t, node.params));
        inputs.forEach((x, i) => {
          const gx = inputGrads[i];
          const fresh =
            op.freshGrads === true ||
            (mine && inputs.length === 1 && gx !== null && gx !== undefined && sameStorage(gx, g!));
          if (gx && x.requiresGrad) give(x, checkGrad(node, gx, x, i), fresh);
        });
      }
      if (!retainGraph) node.freed = true;
    }
  });
}

/** Refuses a freed graph and saved tensors changed in place since the forward. */
function checkNode(node: Node): void {
  if (node.freed) {
    throw new DescentError(
      `backward: trying to backward through the graph a second time (through ${node.op.name}); its saved results were freed after the first backward: pass {retainGraph: true} to the first call`,
    );
  }
  for (const { tensor, version } of node.saved) {
    if (versionOf(tensor) !== version) {
      throw new DescentError(
        `backward: a tensor of shape ${shapeStr(tensor.shape)} that ${node.op.name} saved for its gradient was modified by an in-place operation after it was used; clone() it before changing it`,
      );
    }
  }
}

function checkGrad(node: Node, gx: Tensor, x: Tensor, i: number): Tensor {
  if (!sameShape(gx.shape, x.shape)) {
    throw new DescentError(
      `backward: internal: ${node.op.name} gave a gradient of shape ${shapeStr(gx.shape)} for an input of shape ${shapeStr(x.shape)}`,
    );
  }
  if (isAnomalyEnabled() && gx.hasNonFinite()) {
    throw new DescentError(
      `detectAnomaly: the backward of ${node.op.name} (inputs ${node.inputs.map((y) => shapeStr(y.shape)).join(", ")}) produced NaN or Inf in the gradient of input ${i}`,
    );
  }
  return gx;
}
