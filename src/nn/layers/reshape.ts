// Layers that move values without weights: Unflatten, PixelShuffle, PixelUnshuffle, Upsample, and
// the channel dropouts Dropout1d/Dropout2d. The work is in functional/channel.ts and
// functional/interpolate.ts; these hold the options and print as PyTorch does.

import { DescentError, shapeStr } from "../../core/errors.js";
import { checkOptions } from "../../core/options.js";
import type { Tensor } from "../../tensor/tensor.js";
import { Module } from "../module.js";
import { checkDropoutP } from "../functional/activation.js";
import { dropout1d, dropout2d, pixelShuffle, pixelUnshuffle } from "../functional/channel.js";
import { DROPOUT_KEYS } from "./dropout.js";
import {
  INTERPOLATE_KEYS,
  interpolate,
  type InterpolateOptions,
  type InterpolateMode,
} from "../functional/interpolate.js";
import { pyBool, pyFloat } from "../repr.js";

/** Splits dim into the given sizes (one of them may be -1): [N, 12] with (1, [3, 4]) → [N, 3, 4]. */
export class Unflatten extends Module {
  /** The dimension split. */
  dim: number;
  /** The sizes it is split into. */
  unflattenedSize: number[];
  constructor(dim: number, sizes: readonly number[]) {
    super();
    if (!Number.isInteger(dim)) throw new DescentError(`Unflatten: dim must be an integer, got ${dim}`);
    if (!Array.isArray(sizes) || sizes.length === 0 || !sizes.every((s) => Number.isInteger(s) && s >= -1))
      throw new DescentError(
        `Unflatten: sizes must be a non-empty list of integers ≥ -1, got ${JSON.stringify(sizes)}`,
      );
    if (sizes.filter((s) => s === -1).length > 1)
      throw new DescentError(`Unflatten: only one of sizes can be -1, got [${sizes.join(", ")}]`);
    this.dim = dim;
    this.unflattenedSize = [...sizes];
  }

  forward(x: Tensor): Tensor {
    const d = this.dim < 0 ? this.dim + x.ndim : this.dim;
    if (d < 0 || d >= x.ndim)
      throw new DescentError(`Unflatten: dim ${this.dim} is out of range for input ${shapeStr(x.shape)}`);
    const n = x.shape[d]!;
    const known = this.unflattenedSize.filter((s) => s !== -1).reduce((a, b) => a * b, 1);
    const fits = this.unflattenedSize.includes(-1) ? known > 0 && n % known === 0 : known === n;
    if (!fits)
      throw new DescentError(
        `Unflatten: sizes [${this.unflattenedSize.join(", ")}] do not multiply to dim ${this.dim} of size ${n} (input ${shapeStr(x.shape)})`,
      );
    const sizes = this.unflattenedSize.map((s) => (s === -1 ? n / known : s));
    return x.reshape([...x.shape.slice(0, d), ...sizes, ...x.shape.slice(d + 1)]);
  }

  override extraRepr(): string {
    const s = this.unflattenedSize;
    return `dim=${this.dim}, unflattened_size=${s.length === 1 ? `(${s[0]},)` : `(${s.join(", ")})`}`;
  }
}

/** [..., C·r², H, W] → [..., C, H·r, W·r]. */
export class PixelShuffle extends Module {
  /** The factor r. */
  upscaleFactor: number;
  constructor(upscaleFactor: number) {
    super();
    if (!Number.isInteger(upscaleFactor) || upscaleFactor < 1)
      throw new DescentError(`PixelShuffle: upscaleFactor must be a positive integer, got ${upscaleFactor}`);
    this.upscaleFactor = upscaleFactor;
  }
  forward(x: Tensor): Tensor {
    return pixelShuffle(x, this.upscaleFactor);
  }
  override extraRepr(): string {
    return `upscale_factor=${this.upscaleFactor}`;
  }
}

/** [..., C, H·r, W·r] → [..., C·r², H, W]. */
export class PixelUnshuffle extends Module {
  /** The factor r. */
  downscaleFactor: number;
  constructor(downscaleFactor: number) {
    super();
    if (!Number.isInteger(downscaleFactor) || downscaleFactor < 1)
      throw new DescentError(`PixelUnshuffle: downscaleFactor must be a positive integer, got ${downscaleFactor}`);
    this.downscaleFactor = downscaleFactor;
  }
  forward(x: Tensor): Tensor {
    return pixelUnshuffle(x, this.downscaleFactor);
  }
  override extraRepr(): string {
    return `downscale_factor=${this.downscaleFactor}`;
  }
}

/** nn.Upsample: interpolate with fixed options. */
export class Upsample extends Module {
  /** Output spatial size, or null when scaleFactor gives it. */
  size: number | number[] | null;
  /** Multiplier of each spatial dimension, or null when size gives it. */
  scaleFactor: number | number[] | null;
  /** Interpolation mode (default "nearest"). */
  mode: InterpolateMode;
  /** linear/bilinear only: align corner pixel centres. */
  alignCorners: boolean | null;
  constructor(opts: InterpolateOptions = {}) {
    super();
    checkOptions("Upsample", opts, INTERPOLATE_KEYS);
    const has = (v: unknown) => v !== undefined && v !== null;
    if (has(opts.size) === has(opts.scaleFactor))
      throw new DescentError(
        `Upsample: give exactly one of size and scaleFactor (got ${has(opts.size) ? "both" : "neither"})`,
      );
    const copy = (v: number | readonly number[] | null | undefined) => (typeof v === "number" ? v : v ? [...v] : null);
    this.size = copy(opts.size);
    this.scaleFactor = copy(opts.scaleFactor);
    this.mode = opts.mode ?? "nearest";
    this.alignCorners = opts.alignCorners ?? null;
    // The options are checked now so a bad layer fails where it is built, not at its first batch.
    if (!["nearest", "linear", "bilinear"].includes(this.mode))
      throw new DescentError(
        `Upsample: mode must be "nearest", "linear" or "bilinear", got ${JSON.stringify(this.mode)}`,
      );
    if (this.mode === "nearest" && this.alignCorners !== null)
      throw new DescentError(`Upsample: alignCorners can only be set with the interpolating modes linear and bilinear`);
  }
  forward(x: Tensor): Tensor {
    return interpolate(x, {
      size: this.size,
      scaleFactor: this.scaleFactor,
      mode: this.mode,
      alignCorners: this.alignCorners,
    });
  }
  /** As PyTorch 1.13: scale_factor=2.0 (a float) or size=..., then the mode unquoted. */
  override extraRepr(): string {
    const py = (v: number | number[], f: (n: number) => string) =>
      typeof v === "number" ? f(v) : `(${v.map(f).join(", ")}${v.length === 1 ? "," : ""})`;
    const info =
      this.scaleFactor !== null ? `scale_factor=${py(this.scaleFactor, pyFloat)}` : `size=${py(this.size!, String)}`;
    return `${info}, mode=${this.mode}`;
  }
}

abstract class ChannelDropout extends Module {
  p: number;
  constructor(op: string, p: number | { p?: number }) {
    super();
    if (typeof p !== "number") checkOptions(op, p, DROPOUT_KEYS);
    this.p = typeof p === "number" ? p : (p.p ?? 0.5);
    checkDropoutP(op, this.p);
  }
  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=${pyBool(false)}`;
  }
}

/** Zeroes whole channels of [N, C, L] (or [C, L]) with probability p in training; identity in eval. */
export class Dropout1d extends ChannelDropout {
  constructor(p: number | { p?: number } = 0.5) {
    super("Dropout1d", p);
  }
  forward(x: Tensor): Tensor {
    return dropout1d(x, this.p, this.training);
  }
}

/** Zeroes whole channels of [N, C, H, W] with probability p in training; identity in eval. */
export class Dropout2d extends ChannelDropout {
  constructor(p: number | { p?: number } = 0.5) {
    super("Dropout2d", p);
  }
  forward(x: Tensor): Tensor {
    return dropout2d(x, this.p, this.training);
  }
}
