// dist/index.cjs, the package's entry (issue 15, W6): loads the library's CommonJS bundle
// (dist/descent.cjs, scripts/build.mjs) through a V8 code cache, so a fresh process neither parses
// nor compiles the code a previous run already compiled. Node 20 caches no compiled code of its
// own (module.enableCompileCache is Node 22+). The npm package v8-compile-cache would be a run-time
// dependency that patches Module.prototype._compile for every CommonJS file of the user's process
// (none of ours was CommonJS, ES modules it does not reach) and keeps its cache under os.tmpdir();
// one bundle, one vm.Script and one file do it here.
//
// The cache is one file in a per-user folder ($DESCENT_CACHE_DIR, else $XDG_CACHE_HOME/descent-nn,
// else ~/.cache/descent-nn; mode 0700), named by the package version, the bundle's content hash,
// Node's version, the CPU architecture and a hash of Node's flags. It is written on the main
// thread's exit, after the run compiled what it used (V8 compiles functions lazily, on first
// call), atomically (a temporary file, then a rename); a file V8 rejects or whose checksum fails
// (truncated, damaged) is written anew, and the folder keeps the KEEP newest files. Any failure
// of the cache (no home, read-only disk, a folder of another user) falls back to a plain load,
// silently. DESCENT_COMPILE_CACHE=0 turns it off; DESCENT_COMPILE_CACHE_DEBUG=1 prints one line
// on stderr saying what happened (the tests read it).
//
// dist/index.js (ES modules) requires this file, so `import` and `require` share one copy of the
// library; dist/data/worker_entry.js takes a DataLoader worker's body from the exports, under
// Symbol.for("descent-nn.internal"). scripts/build.mjs replaces __DESCENT_BUNDLE_KEY__.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");

const BUNDLE = path.join(__dirname, "descent.cjs");
/** Package version and bundle hash (scripts/build.mjs): a new build never reads an old cache. */
const KEY = "__DESCENT_BUNDLE_KEY__";
const debug = process.env.DESCENT_COMPILE_CACHE_DEBUG === "1";
const say = (what) => debug && process.stderr.write(`descent-nn compile cache: ${what}\n`);

/**
 * The file starts with a 64-bit hash and the length of V8's data that follows (hex, HEADER bytes):
 * V8 checks the data's version, flags and source length, but aborts the process (SIGTRAP) on
 * damaged bytes. The hash is FNV-1a over the data's little-endian 64-bit words (the last 0–7 bytes
 * one by one): a change to any one word changes it (each step is a bijection of the state). It
 * runs in a 102-byte WebAssembly module, HASH_WASM, ~0.1 ms for the 0.5 MB, on the data where the
 * file was read into the module's memory; node:zlib's crc32 took ~4.5 ms here, loading node:zlib
 * for most of it. Without WebAssembly (--jitless), no cache.
 *
 * HASH_WASM, (func (export "h") (param $at i32) (param $end i32) (result i64)) over (memory (export
 * "m") 1): h = 0xcbf29ce484222325; for (; at < end; at += 8) h = (h ^ i64.load(at)) * 0x100000001b3.
 * test/entry/compile_cache.test.ts checks it against the same loop in BigInt arithmetic.
 */
const HEADER = 24;
const HASH_WASM =
  "AGFzbQEAAAABBwFgAn9/AX4DAgEABQMBAAEHCQIBbQIAAWgAAAo/AT0BAX5CpcaIocicp/lLIQICQCAAIAFPDQADQCACIAApAwCFQrODgICAIH4hAiAAQQhqIgAgAUkNAAsLIAIL";
const FNV_PRIME = 0x100000001b3n;

/** The hash module: its exports h and m. */
function hasher() {
  const bytes = Buffer.from(HASH_WASM, "base64");
  const wasm = globalThis.WebAssembly; // undefined under --jitless: the caller's catch turns the cache off
  return new wasm.Instance(new wasm.Module(bytes)).exports;
}

/** A Uint8Array of `size` bytes at the start of the hash module's memory (grown to fit). */
function hashMemory(h, size) {
  const need = Math.ceil(size / 65536) - h.m.buffer.byteLength / 65536;
  if (need > 0) h.m.grow(need);
  return new Uint8Array(h.m.buffer, 0, size);
}

/** The header of `size` bytes of data at HEADER in the hash module's memory. */
function header(h, size) {
  const end = HEADER + size - (size % 8);
  let hash = BigInt.asUintN(64, h.h(HEADER, end));
  const mem = new Uint8Array(h.m.buffer);
  for (let i = end; i < HEADER + size; i++) hash = BigInt.asUintN(64, (hash ^ BigInt(mem[i])) * FNV_PRIME);
  return hash.toString(16).padStart(16, "0") + size.toString(16).padStart(8, "0");
}

/** Reads the file's first `size` bytes into `into` at `at`; false when the file ends before. */
function readAll(fd, into, at, size) {
  for (let got = 0; got < size;) {
    const n = fs.readSync(fd, into, at + got, size - got, got);
    if (n === 0) return false;
    got += n;
  }
  return true;
}

/** The cache file's V8 data (a view of h's memory), or "damaged" when its header does not match. */
function readCache(file, h) {
  const fd = fs.openSync(file, "r");
  try {
    const size = fs.fstatSync(fd).size;
    if (size <= HEADER) return "damaged";
    const bytes = hashMemory(h, size);
    if (!readAll(fd, bytes, 0, size)) return "damaged"; // shrunk while read
    const head = Buffer.from(bytes.buffer, 0, HEADER).toString("latin1");
    return head === header(h, size - HEADER) ? bytes.subarray(HEADER) : "damaged";
  } finally {
    fs.closeSync(fd);
  }
}

/** The file's bytes for V8's data: its header, then the data. */
function withHeader(data) {
  const h = hasher();
  const bytes = hashMemory(h, HEADER + data.length);
  bytes.set(data, HEADER);
  bytes.set(Buffer.from(header(h, data.length), "latin1"), 0);
  return Buffer.from(bytes); // a copy: the module's memory is not a Buffer to write from
}

/** FNV-1a of a short string, in hex. */
function fnv(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** The cache file, or null when the cache is off or its folder is not this user's alone. */
function cacheFile() {
  if (process.env.DESCENT_COMPILE_CACHE === "0") return null;
  const env = process.env;
  const base = env.DESCENT_CACHE_DIR
    ? env.DESCENT_CACHE_DIR
    : path.join(
        env.XDG_CACHE_HOME || path.join(env.HOME || env.LOCALAPPDATA || require("node:os").homedir(), ".cache"),
        "descent-nn",
      );
  fs.mkdirSync(base, { recursive: true, mode: 0o700 });
  // Compiled code is code: read none from a folder another user could write to.
  const st = fs.statSync(base);
  if (process.platform !== "win32" && (st.uid !== process.getuid() || (st.mode & 0o022) !== 0)) return null;
  // V8 refuses data made under other flags: one file per set of flags, so that two commands do
  // not take turns rewriting one.
  const flags = fnv(`${process.execArgv.join(" ")} ${process.env.NODE_OPTIONS ?? ""}`);
  return path.join(base, `${KEY}-${process.version}-${process.arch}-${flags}.bin`);
}

/** Files a folder keeps: each build, Node version or set of flags writes one (~0.5 MB). */
const KEEP = 8;

/** Removes all but the KEEP newest cache files, and the temporary files of killed processes. */
function prune(dir) {
  const now = Date.now();
  const files = [];
  for (const name of fs.readdirSync(dir)) {
    const full = path.join(dir, name);
    const mtime = fs.statSync(full).mtimeMs;
    if (name.endsWith(".bin")) files.push({ full, mtime });
    else if (name.endsWith(".tmp") && now - mtime > 3600e3) fs.rmSync(full, { force: true });
  }
  files.sort((a, b) => b.mtime - a.mtime);
  for (const f of files.slice(KEEP)) fs.rmSync(f.full, { force: true });
}

const WRAP_HEAD = "(function (exports, require, module, __filename, __dirname) {";
const WRAP_TAIL = "\n})";

/**
 * The bundle's text inside the CommonJS wrapper, as one flat string: the file is read into a buffer
 * that already holds the wrapper and decoded once as Latin-1 (the build writes it in ASCII, so that
 * is its UTF-8 decoding too). A template string of readFileSync(…, "utf8") was a third copy of the
 * 0.5 MB (the joined string, which V8 flattens to compile) and ~350 more 4 KiB pages to fault in:
 * 2–7 ms of W6 here, where a page fault costs ~11 µs. With the cache on, the buffer is the hash
 * module's memory, where the cache file is read next: one set of pages for both files (~130
 * faults fewer).
 */
function readWrapped(h) {
  const fd = fs.openSync(BUNDLE, "r");
  try {
    const size = fs.fstatSync(fd).size;
    const head = WRAP_HEAD.length;
    const total = head + size + WRAP_TAIL.length;
    const text = h ? Buffer.from(hashMemory(h, total).buffer, 0, total) : Buffer.allocUnsafeSlow(total);
    text.latin1Write(WRAP_HEAD, 0);
    if (!readAll(fd, text, head, size)) throw new Error(`${BUNDLE}: shorter than its ${size} bytes`);
    text.latin1Write(WRAP_TAIL, head + size);
    return text.latin1Slice(0, text.length);
  } finally {
    fs.closeSync(fd);
  }
}

/** Loads the bundle through the cache; returns its exports. */
function loadCached() {
  let file = null;
  let h = null;
  let cachedData;
  let damaged = false;
  try {
    file = cacheFile();
    if (file) h = hasher();
  } catch {
    file = null; // no folder, no access or no WebAssembly: plain load, and write nothing
  }
  const source = readWrapped(h);
  try {
    if (file) {
      const read = readCache(file, h);
      damaged = read === "damaged";
      if (!damaged) cachedData = read;
    }
  } catch (e) {
    if (e.code !== "ENOENT") file = null; // no folder or no access: plain load, and write nothing
  }
  if (!file) say("off");
  if (damaged) say(`damaged ${file}`);

  const script = new vm.Script(source, {
    filename: BUNDLE,
    cachedData,
    // import() as in any module of the main context; lost when V8 uses cachedData (see the end).
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  if (cachedData) say(script.cachedDataRejected ? `rejected ${file}` : `accepted ${file}`);

  // Written once the process has run (workers only read it: one writer, the main thread).
  if (file && (!cachedData || script.cachedDataRejected)) {
    process.once("exit", () => {
      if (!require("node:worker_threads").isMainThread) return;
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        const data = script.createCachedData();
        fs.writeFileSync(tmp, withHeader(data), { mode: 0o600 });
        fs.renameSync(tmp, file);
        say(`written ${file}`);
        prune(path.dirname(file));
      } catch {
        try {
          fs.rmSync(tmp, { force: true });
        } catch {
          // nothing to clean up
        }
      }
    });
  }

  const bundle = { exports: {} };
  script.runInThisContext().call(bundle.exports, bundle.exports, require, bundle, BUNDLE, __dirname);
  return bundle.exports;
}

// A plain require (Node compiles the bundle as any CommonJS file) where the cache cannot serve:
// - Node 20 applies source maps (--enable-source-maps) to modules it loads, not to a vm.Script;
// - in Node 20 (V8 11.3) code deserialized from a cache loses the script's import() callback
//   ("A dynamic import callback was not specified"). The library's one import() is the DataLoader
//   worker's, of the user's dataset module: data/worker_entry.js sets this symbol before it loads.
const plainWhy = process.sourceMapsEnabled
  ? "source maps"
  : globalThis[Symbol.for("descent-nn.plain-load")] === true
    ? "worker"
    : null;
module.exports = plainWhy ? (say(`off (${plainWhy})`), require(BUNDLE)) : loadCached();
