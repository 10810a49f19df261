// einsum's equation, read and checked against the operands' shapes as torch.einsum does:
// subscripts are letters a-zA-Z, `...` stands for the dims no letter names (broadcast across
// operands, right-aligned), spaces are ignored, and without `->` the output is the ellipsis dims
// then the letters seen exactly once, in ASCII order (upper case first). einsum.ts lowers the result.

import { DescentError, shapeStr } from "../core/errors.js";

/** A dim's label: a letter's char code, or ELLIPSIS + k for the k-th of the equation's ellipsis dims. */
export type Label = number;
const ELLIPSIS = 1000;

export interface ParsedEinsum {
  /** Per operand, the label of each of its dims (ellipsis dims expanded). */
  readonly inputs: Label[][];
  /** The output's labels, each once. */
  readonly output: Label[];
  /** Every label's size (broadcast: a label of size 1 in one operand takes the others' size). */
  readonly sizes: Map<Label, number>;
}

/** A label as the user wrote it, for messages. */
export function labelName(l: Label): string {
  return l >= ELLIPSIS ? `... dim ${l - ELLIPSIS}` : String.fromCharCode(l);
}

interface Term {
  letters: Label[];
  /** Position of `...` among the letters (null: none). */
  ellipsis: number | null;
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Reads one term (an operand's or the output's) starting at `from` in the equation. */
function parseTerm(eq: string, text: string, from: number, what: string): Term {
  const t: Term = { letters: [], ellipsis: null };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32) continue;
    if (isLetter(c)) t.letters.push(c);
    else if (c === 46) {
      if (text.slice(i, i + 3) !== "...")
        throw new DescentError(
          `einsum: '.' at index ${from + i} of "${eq}" (${what}) is not part of an ellipsis '...'`,
        );
      if (t.ellipsis !== null) throw new DescentError(`einsum: ${what} of "${eq}" has more than one ellipsis '...'`);
      t.ellipsis = t.letters.length;
      i += 2;
    } else {
      throw new DescentError(
        `einsum: invalid character '${text[i]}' at index ${from + i} of "${eq}"; subscripts must be letters a-zA-Z, '...', ',' or '->'`,
      );
    }
  }
  return t;
}

export function parseEinsum(eq: string, shapes: readonly (readonly number[])[]): ParsedEinsum {
  if (typeof eq !== "string") throw new DescentError(`einsum: the equation must be a string, got ${typeof eq}`);
  const arrow = eq.indexOf("->");
  const lhs = arrow < 0 ? eq : eq.slice(0, arrow);
  const parts = lhs.split(",");
  if (parts.length !== shapes.length)
    throw new DescentError(
      `einsum: "${eq}" names ${parts.length} operand${parts.length === 1 ? "" : "s"} but ${shapes.length} ${shapes.length === 1 ? "was" : "were"} given (shapes ${shapes.map(shapeStr).join(", ") || "none"})`,
    );
  let at = 0;
  const terms = parts.map((p, k) => {
    const t = parseTerm(eq, p, at, `operand ${k}`);
    at += p.length + 1;
    return t;
  });

  // Ellipsis dims: as many as the operand with the most; each operand's are the last of them.
  const nEll = terms.reduce((n, t, k) => {
    const nd = shapes[k]!.length;
    if (t.ellipsis === null ? t.letters.length !== nd : t.letters.length > nd)
      throw new DescentError(
        `einsum: operand ${k} of "${eq}" has ${t.letters.length} subscript${t.letters.length === 1 ? "" : "s"} but ${nd} dim${nd === 1 ? "" : "s"} (shape ${shapeStr(shapes[k]!)})${t.ellipsis === null ? " and no ellipsis '...'" : ""}`,
      );
    return t.ellipsis === null ? n : Math.max(n, nd - t.letters.length);
  }, 0);
  const inputs = terms.map((t, k) => {
    if (t.ellipsis === null) return t.letters;
    const e = shapes[k]!.length - t.letters.length;
    const ell = Array.from({ length: e }, (_, j) => ELLIPSIS + nEll - e + j);
    return [...t.letters.slice(0, t.ellipsis), ...ell, ...t.letters.slice(t.ellipsis)];
  });

  const sizes = new Map<Label, number>();
  inputs.forEach((labels, k) => {
    const mine = new Map<Label, number>();
    labels.forEach((l, d) => {
      const s = shapes[k]![d]!;
      const own = mine.get(l);
      if (own !== undefined && own !== s)
        throw new DescentError(
          `einsum: subscript ${labelName(l)} is repeated in operand ${k} of "${eq}" with sizes ${own} and ${s} (shape ${shapeStr(shapes[k]!)}); a repeated subscript takes a diagonal and needs equal sizes`,
        );
      mine.set(l, s);
      const seen = sizes.get(l);
      if (seen !== undefined && seen !== s && seen !== 1 && s !== 1)
        throw new DescentError(
          `einsum: subscript ${labelName(l)} of "${eq}" has size ${s} in operand ${k} (shape ${shapeStr(shapes[k]!)}) but ${seen} in an earlier operand, and neither is 1 (shapes ${shapes.map(shapeStr).join(", ")})`,
        );
      if (seen === undefined || seen === 1) sizes.set(l, s);
    });
  });

  const ellLabels = Array.from({ length: nEll }, (_, j) => ELLIPSIS + j);
  let output: Label[];
  if (arrow < 0) {
    const count = new Map<Label, number>();
    for (const l of inputs.flat()) if (l < ELLIPSIS) count.set(l, (count.get(l) ?? 0) + 1);
    const once = [...count].filter(([, n]) => n === 1).map(([l]) => l);
    output = [...ellLabels, ...once.sort((a, b) => a - b)];
  } else {
    const t = parseTerm(eq, eq.slice(arrow + 2), arrow + 2, "the output");
    for (const [i, l] of t.letters.entries()) {
      if (!sizes.has(l))
        throw new DescentError(`einsum: output subscript ${labelName(l)} of "${eq}" does not appear in any operand`);
      if (t.letters.indexOf(l) !== i)
        throw new DescentError(`einsum: output subscript ${labelName(l)} appears more than once in "${eq}"`);
    }
    // Without '...' in the output, the ellipsis dims are summed over.
    output =
      t.ellipsis === null
        ? t.letters
        : [...t.letters.slice(0, t.ellipsis), ...ellLabels, ...t.letters.slice(t.ellipsis)];
  }
  return { inputs, output, sizes };
}
