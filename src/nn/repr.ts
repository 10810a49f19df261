// How module toString() prints option values: the way PyTorch's repr (Python) prints them.

/** A number as Python's repr prints a float: `1.0`, `0.01`, `1e-05`, `inf`. */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return Object.is(x, -0) ? "-0.0" : x.toFixed(1);
  const [mant, e] = x.toExponential().split("e") as [string, string];
  const exp = Number(e);
  if (exp < -4 || exp >= 16) return `${mant}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  return String(x);
}

/** A boolean as Python prints it. */
export function pyBool(b: boolean): string {
  return b ? "True" : "False";
}
