// A strict JSON parser for headers read from untrusted files. JSON.parse keeps the last of two
// equal keys silently and recurses without a depth limit; this one refuses duplicate keys and
// nesting deeper than maxDepth, and reports the character offset of whatever is wrong.

export class JsonError extends Error {}

// eslint-disable-next-line no-control-regex -- JSON forbids raw control characters in strings
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const SPACE = /[ \t\n\r]*/y;

/** Parses text as one JSON value; throws JsonError (with the character offset) on anything invalid. */
export function parseStrictJson(text: string, maxDepth = 64): unknown {
  let pos = 0;
  const skip = (): void => {
    SPACE.lastIndex = pos;
    SPACE.exec(text);
    pos = SPACE.lastIndex;
  };
  const fail = (what: string): never => {
    throw new JsonError(`${what} at character ${pos}`);
  };
  const token = (re: RegExp): string | null => {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) return null;
    pos = re.lastIndex;
    return m[0];
  };
  const value = (depth: number): unknown => {
    if (depth > maxDepth) fail(`nesting deeper than ${maxDepth}`);
    skip();
    const c = text[pos];
    if (c === "{") {
      pos++;
      const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      skip();
      if (text[pos] === "}") {
        pos++;
        return out;
      }
      for (;;) {
        skip();
        const at = pos;
        const k = token(STRING);
        if (k === null) fail("expected a string key");
        const key = JSON.parse(k!) as string;
        if (Object.prototype.hasOwnProperty.call(out, key)) {
          pos = at;
          fail(`duplicate key ${k}`);
        }
        skip();
        if (text[pos] !== ":") fail("expected ':'");
        pos++;
        out[key] = value(depth + 1);
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
      const s = token(STRING);
      return s === null ? fail("invalid string") : (JSON.parse(s) as string);
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
    const n = token(NUMBER);
    return n === null ? fail(c === undefined ? "unexpected end" : `unexpected ${JSON.stringify(c)}`) : Number(n);
  };
  const v = value(0);
  skip();
  if (pos !== text.length) fail("unexpected text after the value");
  return v;
}
