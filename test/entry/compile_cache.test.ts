// The package's entry and its compile cache (src/compile_cache.cjs, dist/index.cjs; issue 15, W6).
// The library is built into a temporary package (scripts/build.mjs's buildLibrary) and run by fresh
// node processes over a temporary cache folder ($DESCENT_CACHE_DIR); DESCENT_COMPILE_CACHE_DEBUG=1
// makes the entry say on stderr what it did. The first run writes the cache, the next loads it; a
// truncated or damaged file (V8 crashes on one) or one V8 rejects is ignored and rewritten; a write
// prunes the folder to the newest files; an unusable folder or DESCENT_COMPILE_CACHE=0 leaves a
// plain load. Every run must print what the plain load (cache off) prints. Also: `import` and
// `require` share one copy, the ES entry exports exactly src/index.ts's names, and DataLoader
// workers start from the built entry and import a user's dataset module while the cache serves.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// @ts-expect-error: a plain .mjs build script without declarations
import { blankNoOpNames, buildLibrary } from "../../scripts/build.mjs";

const dir = mkdtempSync(join(tmpdir(), "descent-entry-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));
// A package root (packageFile finds the worker's entry from it); the .js entries are ES modules.
writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "descent-nn", type: "module" }));
await (buildLibrary as (out: string) => Promise<unknown>)(join(dir, "dist"));
const entry = join(dir, "dist", "index.cjs");

/** Uses enough of the library to compile much of it: a Linear layer's forward and backward. */
const PROGRAM = join(dir, "use.cjs");
writeFileSync(
  PROGRAM,
  `const d = require(${JSON.stringify(entry)});
d.manualSeed(0);
const m = new d.nn.Linear(3, 2);
const y = m.forward(d.randn([4, 3])).sum();
y.backward();
console.log(y.item(), m.weight.grad.toFlatArray().join(","));
`,
);

interface Run {
  out: string;
  /** What the entry said: "written", "accepted", "rejected", "damaged", "off". */
  events: string[];
}

function run(cacheDir: string, env: Record<string, string> = {}, args: string[] = []): Run {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, DESCENT_BACKEND: "js", DESCENT_COMPILE_CACHE_DEBUG: "1" };
  delete childEnv.DESCENT_COMPILE_CACHE;
  delete childEnv.NODE_OPTIONS;
  const r = spawnSync(process.execPath, [...args, PROGRAM], {
    encoding: "utf8",
    env: { ...childEnv, DESCENT_CACHE_DIR: cacheDir, ...env },
  });
  assert.equal(r.status, 0, `exit ${r.status} (signal ${r.signal}):\n${r.stderr}`);
  const prefix = "descent-nn compile cache: ";
  const events = r.stderr
    .split("\n")
    .filter((l) => l.startsWith(prefix))
    .map((l) => l.slice(prefix.length).split(" ")[0]!);
  return { out: r.stdout, events };
}

const plain = run(join(dir, "unused"), { DESCENT_COMPILE_CACHE: "0" });
let folders = 0;
const freshFolder = () => join(dir, `cache${folders++}`);
const binFiles = (d: string) => readdirSync(d).filter((f) => f.endsWith(".bin"));

test("the plain load works and says the cache is off; DESCENT_COMPILE_CACHE=0 writes nothing", () => {
  assert.match(plain.out, /^-?\d/);
  assert.deepEqual(plain.events, ["off"]);
  assert.equal(existsSync(join(dir, "unused")), false);
});

test("the first run writes the cache (0600 in a 0700 folder), the next ones load it", () => {
  const cache = freshFolder();
  assert.deepEqual(run(cache), { out: plain.out, events: ["written"] });
  const files = readdirSync(cache);
  assert.equal(files.length, 1, `one file, no temporary left: ${files}`);
  assert.match(files[0]!, /^0\.\d+\.\d+.*-[0-9a-f]{16}-v\d+\.\d+\.\d+-\w+-[0-9a-f]{8}\.bin$/);
  if (process.platform !== "win32") {
    assert.equal(statSync(cache).mode & 0o777, 0o700);
    assert.equal(statSync(join(cache, files[0]!)).mode & 0o777, 0o600);
  }
  assert.deepEqual(run(cache), { out: plain.out, events: ["accepted"] });
  assert.deepEqual(run(cache), { out: plain.out, events: ["accepted"] });
});

test("a truncated or damaged cache file is ignored and written anew", () => {
  const cache = freshFolder();
  run(cache);
  const file = join(cache, binFiles(cache)[0]!);
  const good = readFileSync(file);
  truncateSync(file, good.length >> 1);
  assert.deepEqual(run(cache), { out: plain.out, events: ["damaged", "written"] });
  assert.deepEqual(run(cache), { out: plain.out, events: ["accepted"] });
  // Same length, bytes changed in the middle: V8 alone would abort the process (SIGTRAP).
  const bad = Buffer.from(readFileSync(file));
  for (let i = bad.length >> 1; i < (bad.length >> 1) + 2000; i++) bad[i] = (bad[i]! * 31 + 7) & 255;
  writeFileSync(file, bad);
  assert.deepEqual(run(cache), { out: plain.out, events: ["damaged", "written"] });
  assert.deepEqual(run(cache), { out: plain.out, events: ["accepted"] });
  writeFileSync(file, "");
  assert.deepEqual(run(cache), { out: plain.out, events: ["damaged", "written"] });
  // One bit of one byte, in a whole 64-bit word of the data, then in its last (possibly partial)
  // word (each run writes the file anew, and its length varies from run to run).
  for (const where of [(n: number) => n >> 1, (n: number) => n - 1]) {
    const flipped = Buffer.from(readFileSync(file));
    const at = where(flipped.length);
    flipped[at]! ^= 0x10;
    writeFileSync(file, flipped);
    assert.deepEqual(run(cache), { out: plain.out, events: ["damaged", "written"] }, `byte ${at} flipped`);
  }
  assert.deepEqual(run(cache), { out: plain.out, events: ["accepted"] });
});

test("the cache file's hash module computes FNV-1a over 64-bit words, as the same loop in BigInt arithmetic", () => {
  const loader = readFileSync(new URL("../../src/compile_cache.cjs", import.meta.url), "utf8");
  const wasm = Buffer.from(/const HASH_WASM =\s*"([A-Za-z0-9+/=]+)"/.exec(loader)![1]!, "base64");
  // The project's lib (ES2022 + @types/node) declares no WebAssembly: the parts used here.
  interface Hash {
    h: (at: number, end: number) => bigint;
    m: { grow(pages: number): number; readonly buffer: ArrayBuffer };
  }
  const wasmApi = (
    globalThis as unknown as {
      WebAssembly: { Instance: new (m: object) => { exports: Hash }; Module: new (b: Uint8Array) => object };
    }
  ).WebAssembly;
  const { h, m } = new wasmApi.Instance(new wasmApi.Module(wasm)).exports;
  m.grow(2);
  const bytes = new Uint8Array(m.buffer);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
  const view = new DataView(m.buffer);
  const reference = (at: number, end: number): bigint => {
    let hash = 0xcbf29ce484222325n;
    for (let i = at; i < end; i += 8) hash = BigInt.asUintN(64, (hash ^ view.getBigUint64(i, true)) * 0x100000001b3n);
    return hash;
  };
  for (const [at, end] of [
    [24, 24],
    [24, 32],
    [24, 65536 + 8 * 1001],
    [0, m.buffer.byteLength],
  ] as const)
    assert.equal(BigInt.asUintN(64, h(at, end)), reference(at, end), `[${at}, ${end})`);
});

test("a cache file V8 rejects (made under other flags) is written anew; other flags keep a file of their own", () => {
  const cache = freshFolder();
  run(cache);
  const [mine] = binFiles(cache);
  assert.deepEqual(run(cache, {}, ["--no-opt"]), { out: plain.out, events: ["written"] });
  const other = binFiles(cache).find((f) => f !== mine)!;
  assert.ok(other, "a second file for the other flags");
  copyFileSync(join(cache, other), join(cache, mine!));
  assert.deepEqual(run(cache), { out: plain.out, events: ["rejected", "written"] });
  assert.deepEqual(run(cache), { out: plain.out, events: ["accepted"] });
});

test("a write keeps the 8 newest cache files and removes a killed process's old temporary file", () => {
  const cache = freshFolder();
  mkdirSync(cache, { mode: 0o700 });
  const old = (name: string, hoursAgo: number) => {
    writeFileSync(join(cache, name), "x");
    const t = new Date(Date.now() - hoursAgo * 3600e3);
    utimesSync(join(cache, name), t, t);
  };
  for (let i = 0; i < 10; i++) old(`0.0.${i}-older-build.bin`, 10 - i); // 0.0.9 the newest of them
  old("0.0.0-killed.bin.123.tmp", 2);
  old("0.0.0-writing.bin.456.tmp", 0);
  assert.deepEqual(run(cache).events, ["written"]);
  const left = readdirSync(cache).sort();
  const mine = left.filter((f) => !f.includes("older-build") && f.endsWith(".bin"));
  assert.equal(mine.length, 1);
  assert.deepEqual(
    left.filter((f) => f.includes("older-build")),
    [3, 4, 5, 6, 7, 8, 9].map((i) => `0.0.${i}-older-build.bin`),
  );
  assert.ok(left.includes("0.0.0-writing.bin.456.tmp") && !left.includes("0.0.0-killed.bin.123.tmp"));
  assert.deepEqual(run(cache).events, ["accepted"]);
});

test("a cache folder that cannot be used leaves a plain load", () => {
  // Under a regular file: no folder can be made there.
  writeFileSync(join(dir, "a-file"), "");
  assert.deepEqual(run(join(dir, "a-file", "cache")), { out: plain.out, events: ["off"] });
  if (process.platform === "win32") return;
  // Writable by others: compiled code from there could be anyone's.
  const shared = freshFolder();
  mkdirSync(shared);
  chmodSync(shared, 0o777);
  assert.deepEqual(run(shared), { out: plain.out, events: ["off"] });
  assert.deepEqual(readdirSync(shared), []);
  // Read-only (not for root, whom the mode does not stop): nothing written, no error.
  if (process.getuid!() === 0) return;
  const readOnly = freshFolder();
  mkdirSync(readOnly, { mode: 0o500 });
  assert.deepEqual(run(readOnly), { out: plain.out, events: [] });
  assert.deepEqual(readdirSync(readOnly), []);
});

test("import and require share one copy; the ES entry exports src/index.ts's names; workers start", async () => {
  const script = join(dir, "both.mjs");
  writeFileSync(
    script,
    `import * as esm from ${JSON.stringify(join(dir, "dist", "index.js"))};
import { createRequire } from "node:module";
const cjs = createRequire(import.meta.url)(${JSON.stringify(entry)});
let rows = 0;
const ds = new esm.data.TensorDataset(esm.arange(6).reshape([6, 1]), esm.arange(6));
for (const [x] of new esm.data.DataLoader(ds, { batchSize: 4, numWorkers: 2 })) rows += x.shape[0];
console.log(JSON.stringify({ same: esm.Tensor === cjs.Tensor, esm: Object.keys(esm), cjs: Object.keys(cjs), rows }));
`,
  );
  const r = spawnSync(process.execPath, [script], {
    encoding: "utf8",
    env: { ...process.env, DESCENT_BACKEND: "js", DESCENT_COMPILE_CACHE: "0" },
  });
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout) as { same: boolean; esm: string[]; cjs: string[]; rows: number };
  const names = Object.keys(await import("../../src/index.js")).sort();
  assert.equal(got.same, true);
  assert.deepEqual(got.esm.sort(), names);
  assert.deepEqual(got.cjs.filter((n) => n !== "__esModule").sort(), names);
  assert.equal(got.rows, 6);
});

test("DataLoader workers import the user's dataset module while the main thread loads from the cache", () => {
  // Code V8 restores from a cache has no import() callback in Node 20: workers load the bundle plainly.
  writeFileSync(
    join(dir, "dataset.mjs"),
    `import { randn, tensor } from ${JSON.stringify(join(dir, "dist", "index.js"))};
export default class Noisy { constructor(n) { this.length = n; } get(i) { return [randn([2]), tensor(i)]; } }
`,
  );
  const script = join(dir, "workers.mjs");
  writeFileSync(
    script,
    `import { data } from ${JSON.stringify(join(dir, "dist", "index.js"))};
import Noisy from "./dataset.mjs";
const spec = { module: ${JSON.stringify(join(dir, "dataset.mjs"))}, args: [6] };
const out = [];
for (const [x, i] of new data.DataLoader(new Noisy(6), { batchSize: 4, numWorkers: 2, workerDataset: spec }))
  out.push(...x.toFlatArray(), ...i.toFlatArray());
console.log(out.join(","));
`,
  );
  const cache = freshFolder();
  const runWorkers = () => {
    const r = spawnSync(process.execPath, [script], {
      encoding: "utf8",
      env: { ...process.env, DESCENT_BACKEND: "js", DESCENT_CACHE_DIR: cache, DESCENT_COMPILE_CACHE_DEBUG: "1" },
    });
    assert.equal(r.status, 0, r.stderr);
    return { out: r.stdout, stderr: r.stderr };
  };
  const first = runWorkers();
  const second = runWorkers();
  assert.match(second.stderr, /compile cache: accepted/);
  assert.match(second.stderr, /compile cache: off \(worker\)/);
  assert.equal(first.out.split(",").length, 6 * 2 + 6);
  assert.equal(second.out, first.out); // the workers' seeds come from the loader: the same batches
});

/** "path: name" of every function and class reachable from `root`'s exports (namespaces three deep). */
const NAMES_OF = `function namesOf(root) {
  const seen = new Set();
  const out = [];
  const walk = (v, path, depth) => {
    if (depth > 3 || v === null || (typeof v !== "object" && typeof v !== "function") || seen.has(v)) return;
    seen.add(v);
    if (typeof v === "function") out.push(path + ": " + v.name);
    if (typeof v === "object") for (const k of Object.keys(v)) walk(v[k], path + "." + k, depth + 1);
  };
  for (const k of Object.keys(root)) walk(root[k], k, 0);
  return out;
}`;

test("the built library's classes and functions have the names they have in the sources", async () => {
  const r = spawnSync(
    process.execPath,
    ["-e", `${NAMES_OF}\nconsole.log(JSON.stringify(namesOf(require(${JSON.stringify(entry)}))));`],
    { encoding: "utf8", env: { ...process.env, DESCENT_BACKEND: "js", DESCENT_COMPILE_CACHE: "0" } },
  );
  assert.equal(r.status, 0, r.stderr);
  const namesOf = new Function(`${NAMES_OF}; return namesOf;`)() as (root: object) => string[];
  const expected = namesOf(await import("../../src/index.js"));
  assert.ok(expected.length > 200, `${expected.length} functions and classes`);
  assert.deepEqual(JSON.parse(r.stdout), expected);
});

test("blankNoOpNames blanks the names keepNames gives a function or class it already has, and keeps the rest", () => {
  const blank = blankNoOpNames as (code: string) => string;
  const code = [
    'function step(){}__name(step,"step");',
    'function step2(){}__name(step2,"step");',
    'var f=__name(()=>1,"f");',
    'var h=__name(()=>1,"g");', // renamed: kept
    'call(__name(()=>1,"k"));', // nothing would name it: kept
    '__name(g,"g");', // g is no function declaration: kept
    'function outer(){__name(step,"step");var q=__name(function(){return __name(x=>x,"inner")},"q")}',
    'function shadow(step){__name(step,"step")}', // a parameter, not the function: kept
    'Tensor=class{static{__name(this,"Tensor")}x(){}};',
    'Linear2=class extends Module{static{__name(this,"Linear")}};',
    'class Adam extends optim.Optimizer{static{__name(this,"Adam")}}',
    'o={key:__name(()=>2,"key"),other:__name(()=>3,"nope")};',
  ].join("\n");
  const out = blank(code);
  assert.equal(out.length, code.length);
  const lines = out.split("\n").map((l) => l.replace(/ +/g, " "));
  assert.deepEqual(lines, [
    "function step(){} ",
    'function step2(){}__name(step2,"step");',
    "var f=()=>1 ;",
    'var h=__name(()=>1,"g");',
    'call(__name(()=>1,"k"));',
    '__name(g,"g");',
    'function outer(){ var q=function(){return __name(x=>x,"inner")} }',
    'function shadow(step){__name(step,"step")}',
    "Tensor=class{ x(){}};",
    'Linear2=class extends Module{static{__name(this,"Linear")}};',
    "class Adam extends optim.Optimizer{ }",
    'o={key:()=>2 ,other:__name(()=>3,"nope")};',
  ]);
});
