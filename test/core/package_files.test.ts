// src/core/package_files.ts: the package root is found from the module's own location (the addon,
// the MPI binding and the DataLoader's worker entry are located from it in src/ and in the dist/ bundle).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { packageFile, packageRoot, runningFromSources } from "../../src/core/package_files.js";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

test("packageRoot is the folder of descent-nn's package.json; packageFile joins onto it", () => {
  assert.equal(packageRoot(), repo);
  const pkg = JSON.parse(readFileSync(packageFile("package.json"), "utf8")) as { name: string };
  assert.equal(pkg.name, "descent-nn");
  assert.ok(existsSync(packageFile("src/data/worker_entry.ts")));
});

test("runningFromSources is true under tsx (the worker entry is then the .ts file)", () => {
  assert.equal(runningFromSources(), true);
});
