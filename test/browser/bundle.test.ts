// The browser bundle (scripts/build_browser.mjs, dist/descent.browser.js): it builds for platform
// "browser" (esbuild refuses any node: import under src/browser.ts), holds no require( or node:
// import, stays within the size budget written in the README, and works: built in a temporary
// folder and imported here, it trains a step and round-trips tensors through bytes, a Blob and a
// Response.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
// @ts-expect-error: a plain .mjs build script without declarations
import { buildBrowser } from "../../scripts/build_browser.mjs";

const dir = mkdtempSync(join(tmpdir(), "descent-bundle-"));
const out = join(dir, "descent.browser.js");
await (buildBrowser as (f: string) => Promise<unknown>)(out);
const code = readFileSync(out, "utf8");
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** The budget the README states: "bundle size budget: N bytes minified, M bytes gzipped". */
function budget(): { raw: number; gzip: number } {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const m = /size budget: ([\d,]+) bytes minified, ([\d,]+) bytes gzipped/.exec(readme);
  assert.ok(m, "README.md states the browser bundle's size budget");
  return { raw: Number(m[1]!.replaceAll(",", "")), gzip: Number(m[2]!.replaceAll(",", "")) };
}

test("the browser bundle stays within the README's size budget", (t) => {
  const b = budget();
  const raw = Buffer.byteLength(code);
  const gz = gzipSync(code, { level: 9 }).length;
  t.diagnostic(`dist/descent.browser.js: ${raw} bytes minified (budget ${b.raw}), ${gz} gzipped (budget ${b.gzip})`);
  assert.ok(raw <= b.raw, `${raw} bytes minified exceeds the budget of ${b.raw}`);
  assert.ok(gz <= b.gzip, `${gz} bytes gzipped exceeds the budget of ${b.gzip}`);
});

test("the browser bundle has no require( and no node: import", () => {
  assert.doesNotMatch(code, /\brequire\s*\(/);
  assert.doesNotMatch(code, /\bimport\s*\(?\s*["']node:|\bfrom\s*["']node:|\bimport\s*["']node:/);
  // The control: the same patterns do catch what they look for.
  assert.match('import{a}from"node:fs";require("x")', /\bfrom\s*["']node:/);
});

test("the bundle trains, and load/save go through bytes, a Blob and a Response", async () => {
  const d = (await import(pathToFileURL(out).href)) as typeof import("../../src/browser.js");
  // Imported under Node, the bundle still sees no Node (no DESCENT_BACKEND, no addon): js, as in a page.
  assert.deepEqual(d.availableBackends(), ["js"]);
  d.manualSeed(0);
  const model = new d.nn.Linear(3, 2);
  const opt = new d.optim.SGD(model.parameters(), { lr: 0.1 });
  const x = d.randn([8, 3]);
  const loss0 = model.forward(x).pow(2).mean();
  loss0.backward();
  opt.step();
  assert.ok(model.forward(x).pow(2).mean().item() < loss0.item());

  const sd = model.stateDict();
  const bytes = d.saveToBytes(sd, { note: "hi" });
  const back = d.load(bytes);
  const fromBlob = await d.load(d.save(sd));
  const fromResponse = await d.load(new Response(bytes.slice()));
  for (const got of [back, fromBlob, fromResponse]) {
    for (const k of Object.keys(sd)) assert.deepEqual(got[k]!.toArray(), sd[k]!.toArray());
  }
  await assert.rejects(d.load(new Response("no", { status: 404 })), /status 404/);
  assert.throws(() => d.save(sd, "model.safetensors" as never), /no file system in a browser/);
});
