// The one error type Descent throws for bad input: the message names the operation and the
// shapes, dtypes or values involved, so a user can find the call that went wrong.

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
