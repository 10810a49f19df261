// The one error type Descent throws for bad input: the message names the operation and the
// shapes, dtypes or values involved, so a user can find the call that went wrong.

/**
 * The error Descent throws for bad input (a wrong shape, dtype, option or file); its message names the
 * operation and the offending shapes or values, and for limits the limit and the option that raises it.
 */
export class DescentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DescentError";
  }
}

/** Formats a shape the way error messages and toString() show it: `[2,3]`. */
export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}
