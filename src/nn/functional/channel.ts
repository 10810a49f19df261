// Channel-wise functions: dropout1d/dropout2d (whole channels zeroed, PyTorch's feature dropout)
// and pixelShuffle/pixelUnshuffle (channels traded for spatial resolution). Composites: a
// broadcast mask, or a reshape-permute-reshape, so autograd gives the backward.

import { DescentError, shapeStr } from "../../core/errors.js";
import { defaultGenerator } from "../../core/random.js";
import { fromArray, type Tensor } from "../../tensor/tensor.js";
import { checkDropoutP } from "./activation.js";

/**
 * Feature dropout on a batched input [N, C, ...]: one draw per (sample, channel) from the project's
 * generator zeroes the whole channel with probability p; kept channels are scaled by 1/(1-p).
 */
function featureDropout(x: Tensor, p: number): Tensor {
  const scale = p === 1 ? 0 : 1 / (1 - p);
  const shape = x.shape.map((s, i) => (i < 2 ? s : 1));
  return x.mul(fromArray(x.dtype, shape, () => (defaultGenerator.uniform() < p ? 0 : scale)));
}

function dropoutPrologue(op: string, x: Tensor, p: number): void {
  checkDropoutP(op, p);
  if (x.dtype === "int32") throw new DescentError(`${op}: expected a floating-point tensor, got ${x.dtype}`);
}

/** Channel dropout for [N, C, L] or unbatched [C, L] (PyTorch 1.13 refuses other ranks too). */
export function dropout1d(x: Tensor, p = 0.5, training = true): Tensor {
  dropoutPrologue("dropout1d", x, p);
  if (x.ndim !== 2 && x.ndim !== 3)
    throw new DescentError(
      `dropout1d: expected a 2-D [C, L] or 3-D [N, C, L] input, got ${x.ndim}-D input ${shapeStr(x.shape)}`,
    );
  if (!training || p === 0) return x;
  return x.ndim === 3 ? featureDropout(x, p) : featureDropout(x.unsqueeze(0), p).squeeze(0);
}

/**
 * Channel dropout for [N, C, H, W]. PyTorch 1.13 only warns on other ranks, and reads a 3-D input
 * as [N, C, L] (not as an unbatched image); Descent refuses both instead of guessing.
 */
export function dropout2d(x: Tensor, p = 0.5, training = true): Tensor {
  dropoutPrologue("dropout2d", x, p);
  if (x.ndim === 3)
    throw new DescentError(
      `dropout2d: got a 3-D input ${shapeStr(x.shape)}; PyTorch 1.13 reads it as [N, C, L] with a warning: use dropout1d for that, or unsqueeze(0) an unbatched [C, H, W] image`,
    );
  if (x.ndim !== 4)
    throw new DescentError(`dropout2d: expected a 4-D input [N, C, H, W], got ${x.ndim}-D input ${shapeStr(x.shape)}`);
  if (!training || p === 0) return x;
  return featureDropout(x, p);
}

function checkFactor(op: string, name: string, r: number): void {
  if (!Number.isInteger(r) || r < 1) throw new DescentError(`${op}: ${name} must be a positive integer, got ${r}`);
}

/** [..., C·r², H, W] → [..., C, H·r, W·r] (torch.nn.functional.pixel_shuffle). */
export function pixelShuffle(x: Tensor, upscaleFactor: number): Tensor {
  const op = "pixelShuffle";
  checkFactor(op, "upscaleFactor", upscaleFactor);
  const r = upscaleFactor;
  if (x.ndim < 3)
    throw new DescentError(`${op}: expected an input [..., C, H, W] of 3 or more dims, got ${shapeStr(x.shape)}`);
  const lead = x.shape.slice(0, -3);
  const [c, h, w] = x.shape.slice(-3) as [number, number, number];
  if (c % (r * r) !== 0)
    throw new DescentError(
      `${op}: the ${c} channels of input ${shapeStr(x.shape)} are not divisible by upscaleFactor² = ${r * r}`,
    );
  const k = lead.length;
  const oc = c / (r * r);
  const t = x.reshape([...lead, oc, r, r, h, w]);
  const perm = [...lead.map((_, i) => i), k, k + 3, k + 1, k + 4, k + 2];
  return t.permute(perm).reshape([...lead, oc, h * r, w * r]);
}

/** [..., C, H·r, W·r] → [..., C·r², H, W], the inverse of pixelShuffle (pixel_unshuffle). */
export function pixelUnshuffle(x: Tensor, downscaleFactor: number): Tensor {
  const op = "pixelUnshuffle";
  checkFactor(op, "downscaleFactor", downscaleFactor);
  const r = downscaleFactor;
  if (x.ndim < 3)
    throw new DescentError(`${op}: expected an input [..., C, H, W] of 3 or more dims, got ${shapeStr(x.shape)}`);
  const lead = x.shape.slice(0, -3);
  const [c, h, w] = x.shape.slice(-3) as [number, number, number];
  if (h % r !== 0 || w % r !== 0)
    throw new DescentError(
      `${op}: the height ${h} and width ${w} of input ${shapeStr(x.shape)} must be divisible by downscaleFactor ${r}`,
    );
  const k = lead.length;
  const t = x.reshape([...lead, c, h / r, r, w / r, r]);
  const perm = [...lead.map((_, i) => i), k, k + 2, k + 4, k + 1, k + 3];
  return t.permute(perm).reshape([...lead, c * r * r, h / r, w / r]);
}
