// The checks behind every reader's raisable limits (maxBytes, maxHeaderBytes...): platform-free,
// so the in-memory readers (safetensors from bytes, in browsers too) share them with the file readers.

import { DescentError } from "./errors.js";

/** The message for a file or stream larger than a reader's limit. */
export function tooLarge(where: string, what: string, limit: number, option = "maxBytes"): DescentError {
  return new DescentError(`${where}: ${what} exceeds ${option} (${limit}); pass {${option}} to raise it`);
}

/** Refuses a limit option that is not a non-negative integer (NaN would disable every check). */
export function checkLimit(where: string, option: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new DescentError(`${where}: ${option} must be a non-negative integer, got ${String(v)}`);
  }
}
