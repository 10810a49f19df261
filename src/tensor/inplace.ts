// In-place updates: each writes into the tensor's own storage through a backend kernel, after
// checkInPlace has refused what would corrupt a recorded graph and bumped the storage's version
// (which lets backward detect a saved tensor changed since its forward).

import { allocArray, checkFloat, type TypedArray } from "../core/dtype.js";
import { DescentError, shapeStr } from "../core/errors.js";
import { defaultGenerator } from "../core/random.js";
import { broadcastShapes, sameShape } from "../core/shape.js";
import { backend } from "../backends/index.js";
import { bumpVersion, isGradEnabled } from "../autograd/graph.js";
import type { OpDef } from "../ops/op.js";
import { Add, Div, Maximum, Minimum, Mul, Sub } from "../ops/binary.js";
import { scalarTensor, writtenLike } from "./apply.js";
import type { Scalar, Tensor } from "./tensor.js";

/** Every in-place op passes here before writing: refuses graph corruption, bumps the version. */
export function checkInPlace(x: Tensor, op: string): void {
  if (x.requiresGrad && isGradEnabled()) {
    throw new DescentError(
      `${op}: in-place operation on a tensor that requires grad (shape ${shapeStr(x.shape)}); wrap it in noGrad(...) or use the out-of-place form`,
    );
  }
  bumpVersion(x);
}

export function copy_<T extends Tensor>(x: T, src: Tensor | Scalar): T {
  checkInPlace(x, "copy_");
  const s = typeof src === "number" ? scalarTensor(x, x.dtype, src) : src;
  backend().kernels.copy(s.expand(broadcastShapes("copy_", s.shape, x.shape)).expand(x.shape), x);
  return x;
}

export function fill_<T extends Tensor>(x: T, value: Scalar): T {
  checkInPlace(x, "fill_");
  backend().kernels.fill(x, value);
  return x;
}

export function zero_<T extends Tensor>(x: T): T {
  checkInPlace(x, "zero_");
  return fill_(x, 0);
}

/** x op= o with o broadcast to x's shape (never the other way round). */
function binary_<T extends Tensor>(op: OpDef, x: T, o: Tensor | Scalar): T {
  checkInPlace(x, `${op.name}_`);
  const other = (typeof o === "number" ? scalarTensor(x, x.dtype, o) : o.to(x.dtype)).expand(
    broadcastShapes(`${op.name}_`, x.shape, typeof o === "number" ? [] : o.shape),
  );
  if (!sameShape(other.shape, x.shape)) {
    throw new DescentError(
      `${op.name}_: the result shape ${shapeStr(other.shape)} does not fit the tensor being updated ${shapeStr(x.shape)}`,
    );
  }
  backend().kernels.binary(op.name as "add", x, other, x);
  return x;
}

export function add_<T extends Tensor>(x: T, o: Tensor | Scalar): T {
  return binary_(Add, x, o);
}
export function sub_<T extends Tensor>(x: T, o: Tensor | Scalar): T {
  return binary_(Sub, x, o);
}
export function mul_<T extends Tensor>(x: T, o: Tensor | Scalar): T {
  return binary_(Mul, x, o);
}
export function div_<T extends Tensor>(x: T, o: Tensor | Scalar): T {
  checkFloat("div_", x.dtype);
  return binary_(Div, x, o);
}

export function clamp_<T extends Tensor>(x: T, min: number | undefined, max: number | undefined): T {
  if (min !== undefined) binary_(Maximum, x, min);
  return max !== undefined ? binary_(Minimum, x, max) : x;
}

export function uniform_<T extends Tensor>(x: T, low: number, high: number): T {
  return drawInto_(x, "uniform_", (host) => defaultGenerator.fillUniform(host, high - low, low));
}

export function normal_<T extends Tensor>(x: T, mean: number, std: number): T {
  return drawInto_(x, "normal_", (host) => defaultGenerator.fillNormal(host, std, mean));
}

/** Elements a draw writes per pass through the storage door (32-64 KiB). */
const DRAW_BLOCK = 8192;

/**
 * Writes the draws of `fill` into x in row-major order. A contiguous x gets them block by block
 * through the storage door, so no temporary of x's size is made and copied (issue 15: a fresh
 * page costs ~10 µs on the benchmark VMs, ~3 ms a megabyte); the generator's stream is the same
 * whatever the blocks. Any other layout goes through a contiguous copy.
 */
function drawInto_<T extends Tensor>(x: T, op: string, fill: (host: TypedArray) => void): T {
  checkInPlace(x, op);
  if (!x.isContiguous()) return copy_(x, writtenLike(x, x.dtype, x.shape, fill));
  const b = backend();
  const block = allocArray(x.dtype, Math.min(x.size, DRAW_BLOCK));
  for (let i = 0; i < x.size; i += block.length) {
    const part = x.size - i < block.length ? block.subarray(0, x.size - i) : block;
    fill(part);
    b.write(x.data, part, x.offset + i);
  }
  return x;
}
