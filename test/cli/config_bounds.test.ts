// The CLI's config reading bounds (issue 11): an integer field past int32 ("out": 2147483648)
// is a one-line config error, not a RangeError from an allocation, and a config path that is a
// FIFO is refused instead of blocking.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { buildModel, CliError, readJson } from "../../src/cli/config.js";

const dir = mkdtempSync(join(tmpdir(), "descent-cfg-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('a layer with "out": 2147483648 is a one-line config error', () => {
  assert.throws(
    () => buildModel([{ type: "linear", out: 2147483648 }], [4]),
    (e: unknown) => {
      assert.ok(e instanceof CliError, String(e));
      assert.match(e.message, /layers\[0\]\.out: expected an integer >= 1 <= 2147483647, got number 2147483648/);
      assert.ok(!e.message.includes("\n"));
      return true;
    },
  );
});

test("readJson refuses a FIFO without blocking, and still says 'not found' for a missing file", () => {
  const fifo = join(dir, "config.json");
  execFileSync("mkfifo", [fifo]);
  assert.throws(
    () => readJson(fifo, "config file"),
    /config file .*config\.json: a FIFO \(named pipe\), not a regular file/,
  );
  assert.throws(() => readJson(join(dir, "nope.json"), "config file"), /config file not found: .*nope\.json/);
});
