// A strict JSON parser for headers read from untrusted files. JSON.parse keeps the last of two
// equal keys silently and recurses without a depth limit; this one refuses duplicate keys and
// nesting deeper than maxDepth, and reports the character offset of whatever is wrong.

export class JsonError extends Error {}

/** Thrown when the top-level object has more keys than the caller allows (so a reader can name its own limit). */
export class TooManyKeys extends JsonError {}

// Every token is scanned by hand, one character at a time: a regex such as
// /"(?:[^"\\]|\\.)*"/ recurses in V8 per repetition and overflows the stack on a string of
// ~8 M characters (which save() itself writes for a long metadata value).

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** The end of the JSON string starting at the quote at pos, and whether it holds escapes; -1 if invalid. */
function scanString(text: string, pos: number): { end: number; escaped: boolean } | number {
  let i = pos + 1;
  let escaped = false;
  for (;;) {
    if (i >= text.length) return i;
    const c = text.charCodeAt(i);
    if (c === 34) return { end: i + 1, escaped };
    if (c < 0x20) return i;
    if (c === 92) {
      escaped = true;
      const e = text.charCodeAt(i + 1);
      if (e === 117) {
        for (let k = 2; k < 6; k++) if (!/[0-9a-fA-F]/.test(text[i + k] ?? "")) return i;
        i += 6;
      } else if (e === 34 || e === 92 || e === 47 || e === 98 || e === 102 || e === 110 || e === 114 || e === 116) {
        i += 2;
      } else return i;
    } else i++;
  }
}

/** The end of the JSON number starting at pos, or pos when there is none. */
function scanNumber(text: string, pos: number): number {
  let i = pos;
  if (text.charCodeAt(i) === 45) i++;
  if (text.charCodeAt(i) === 48) i++;
  else if (isDigit(text.charCodeAt(i))) while (isDigit(text.charCodeAt(i))) i++;
  else return pos;
  if (text.charCodeAt(i) === 46 && isDigit(text.charCodeAt(i + 1))) {
    i++;
    while (isDigit(text.charCodeAt(i))) i++;
  }
  const e = text.charCodeAt(i);
  if (e === 101 || e === 69) {
    let j = i + 1;
    const s = text.charCodeAt(j);
    if (s === 43 || s === 45) j++;
    if (isDigit(text.charCodeAt(j))) {
      while (isDigit(text.charCodeAt(j))) j++;
      i = j;
    }
  }
  return i;
}

/**
 * Parses text as one JSON value; throws JsonError (with the character offset) on anything invalid,
 * TooManyKeys when the top-level object has more than maxKeys keys (checked as they are read, so a
 * huge header is refused before it is all built). With onTopMember, the top-level object's members
 * are handed to it as they are parsed instead of being stored (that object comes back empty), so a
 * caller that converts them keeps no second copy: a header of a million entries stays lean.
 */
export function parseStrictJson(
  text: string,
  maxDepth = 64,
  maxKeys = Infinity,
  onTopMember?: (key: string, value: unknown) => void,
): unknown {
  let pos = 0;
  const skip = (): void => {
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return;
      pos++;
    }
  };
  const fail = (what: string): never => {
    throw new JsonError(`${what} at character ${pos}`);
  };
  /** The string at pos (decoded), or null when there is none or it is invalid (pos at the fault). */
  const string = (): string | null => {
    if (text.charCodeAt(pos) !== 34) return null;
    const r = scanString(text, pos);
    if (typeof r === "number") {
      pos = r;
      return null;
    }
    const start = pos;
    pos = r.end;
    // JSON.parse decodes the escapes of one string token in linear time, without recursion.
    return r.escaped ? (JSON.parse(text.slice(start, r.end)) as string) : text.slice(start + 1, r.end - 1);
  };
  const value = (depth: number): unknown => {
    if (depth > maxDepth) fail(`nesting deeper than ${maxDepth}`);
    skip();
    const c = text[pos];
    if (c === "{") {
      pos++;
      // A plain object (Object.create(null) ones are slow dictionaries); "__proto__" is defined,
      // not assigned, so it stays an ordinary key.
      const out: Record<string, unknown> = {};
      const streamed = depth === 0 && onTopMember ? new Set<string>() : null;
      let keys = 0;
      skip();
      if (text[pos] === "}") {
        pos++;
        return out;
      }
      for (;;) {
        skip();
        const at = pos;
        const key = string();
        if (key === null) fail(pos === at ? "expected a string key" : "invalid string");
        if (streamed ? streamed.has(key!) : Object.prototype.hasOwnProperty.call(out, key!)) {
          pos = at;
          fail(`duplicate key ${JSON.stringify(key).slice(0, 200)}`);
        }
        if (++keys > maxKeys && depth === 0)
          throw new TooManyKeys(`an object with more than ${maxKeys} keys at character ${at}`);
        skip();
        if (text[pos] !== ":") fail("expected ':'");
        pos++;
        const v = value(depth + 1);
        if (streamed) {
          streamed.add(key!);
          onTopMember!(key!, v);
        } else if (key === "__proto__") Object.defineProperty(out, key, { value: v, enumerable: true, writable: true });
        else out[key!] = v;
        skip();
        if (text[pos] === ",") pos++;
        else if (text[pos] === "}") {
          pos++;
          return out;
        } else fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      pos++;
      const out: unknown[] = [];
      skip();
      if (text[pos] === "]") {
        pos++;
        return out;
      }
      for (;;) {
        out.push(value(depth + 1));
        skip();
        if (text[pos] === ",") pos++;
        else if (text[pos] === "]") {
          pos++;
          return out;
        } else fail("expected ',' or ']'");
      }
    }
    if (c === '"') {
      const s = string();
      return s === null ? fail("invalid string") : s;
    }
    for (const [word, v] of [
      ["true", true],
      ["false", false],
      ["null", null],
    ] as const) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return v;
      }
    }
    const end = scanNumber(text, pos);
    if (end === pos) fail(c === undefined ? "unexpected end" : `unexpected ${JSON.stringify(c)}`);
    const n = Number(text.slice(pos, end));
    pos = end;
    return n;
  };
  const v = value(0);
  skip();
  if (pos !== text.length) fail("unexpected text after the value");
  return v;
}
