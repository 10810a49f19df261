// Temporary files for the reader tests, and the assertion that a call is refused with a
// DescentError whose message matches.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescentError } from "../../src/index.js";

/** A temp folder removed after the file's tests; `file(bytes)` writes a new file there, `path()` names one. */
export function tempFiles(prefix: string): {
  dir: string;
  path: (ext?: string) => string;
  file: (bytes: Uint8Array | string) => string;
} {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  test.after(() => rmSync(dir, { recursive: true, force: true }));
  let counter = 0;
  const path = (ext = ""): string => join(dir, `f${counter++}${ext}`);
  return {
    dir,
    path,
    file: (bytes) => {
      const p = path();
      writeFileSync(p, bytes);
      return p;
    },
  };
}

/** fn throws a DescentError whose message matches re. */
export function refuses(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DescentError, String(e));
    assert.match(e.message, re);
    return true;
  });
}
