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
 * The file starts with the CRC-32 and the length of V8's data that follows (hex, HEADER bytes): V8
 * checks the data's version, flags and source length, but aborts the process (SIGTRAP) on damaged
 * bytes. (zlib's crc32 costs ~2 ms here with node:zlib's load; node:crypto's sha256 ~5 ms.)
 */
const HEADER = 16;
const header = (data) =>
  require("node:zlib").crc32(data).toString(16).padStart(8, "0") + data.length.toString(16).padStart(8, "0");

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

/** Loads the bundle through the cache; returns its exports. */
function loadCached() {
  let file = null;
  let cachedData;
  let damaged = false;
  try {
    file = cacheFile();
    if (file) {
      const bytes = fs.readFileSync(file);
      cachedData = bytes.subarray(HEADER);
      damaged = bytes.length <= HEADER || bytes.toString("latin1", 0, HEADER) !== header(cachedData);
      if (damaged) cachedData = undefined;
    }
  } catch (e) {
    if (e.code !== "ENOENT") file = null; // no folder or no access: plain load, and write nothing
  }
  if (!file) say("off");
  if (damaged) say(`damaged ${file}`);

  const source = fs.readFileSync(BUNDLE, "utf8");
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
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
        fs.writeFileSync(tmp, Buffer.concat([Buffer.from(header(data), "latin1"), data]), { mode: 0o600 });
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
