// `npm run build`: the published dist/. tsc writes only the declarations (dist/**/*.d.ts, what
// TypeScript users and `types` read); esbuild writes the JavaScript as bundles (issue 15: a fresh
// process spent most of its start-up resolving and reading ~160 files):
// - dist/descent.cjs, the library as one CommonJS bundle, which dist/index.cjs (src/compile_cache.cjs)
//   runs through a V8 code cache kept in a per-user folder (W6: the second process compiles
//   nothing it compiled before). dist/index.js, the ES entry, requires dist/index.cjs and names its
//   exports, so `import` and `require` share one copy of the library; dist/data/worker_entry.js (where
//   a DataLoader worker starts) runs the worker's body from the same bundle, so a user's dataset
//   module and the worker see the same classes and the same default generator.
// - dist/cli/main.js (the `descent` / `descent-nn` bins), an ES module of its own: it loads no user
//   code, so its copy of the classes meets no other.
// Dependencies stay external (npm installs them); keepNames keeps class names (summaries, error
// messages) when the bundler renames.
//
// Node's built-in modules are taken with process.getBuiltinModule, not `import`: importing node:fs
// as ESM builds its module namespace, which reads fs.ReadStream and so loads all of node:stream
// (25-60 ms of start-up on this shared machine, more than the rest of the import).
//
// The CLI's config validators (src/cli/config_validators.cjs, ajv's standalone code) are a file of
// their own, dist/cli/config_validators.cjs, which the CLI requires only when it checks a config;
// that bundle inlines the few lines of ajv's runtime they use, so the package needs no ajv at run time.
//
// `node scripts/build.mjs` builds all of dist/; test/entry/compile_cache.test.ts imports
// buildLibrary to write the library's four files into a temporary folder.

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as acorn from "acorn";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");

/**
 * `import { x } from "node:y"` -> `x` from a small ES module over process.getBuiltinModule("node:y"),
 * which builds no ESM namespace. Each export reads its property in a pure-annotated call, so the
 * bundle keeps only the names the sources import (not a CommonJS shim: esbuild's __toESM copied
 * every property of node:fs into a new object, once per importing file, at import time).
 */
const builtinsWithoutNamespace = {
  name: "builtins-without-esm-namespace",
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (a) => ({ path: a.path, namespace: "builtin" }));
    b.onLoad({ filter: /.*/, namespace: "builtin" }, (a) => {
      // Object.keys runs no getter (fs.promises and the like load more of Node when read).
      const names = Object.keys(process.getBuiltinModule(a.path)).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n));
      const exports = names.map((n) => `export const ${n} = /* @__PURE__ */ (() => m.${n})();`);
      return {
        contents: [
          `const m = process.getBuiltinModule(${JSON.stringify(a.path)});`,
          "export default m;",
          ...exports,
        ].join("\n"),
        loader: "js",
      };
    });
  },
};

/**
 * keepNames makes esbuild name every function and class it might have renamed (two modules' `step`
 * become `step` and `step2` in one bundle scope): `__name(step2, "step");` after a declaration,
 * `static{__name(this,"Linear")}` in a class, `__name((g) => …, "backward")` around a function
 * expression. Most give a function or class the name it has anyway: a declaration's own name, or
 * the name JavaScript gives an anonymous function or class where it is the value of a variable, an
 * assignment or a property of that name (`var backward = (g) => …` is named "backward"). At load
 * they cost a fresh process ~400 page faults and ~9 ms of W6, and a wrapped closure made in an op's
 * body pays a defineProperty at each call (the benchmarks, on the sources through tsx, never
 * see that). Those calls are blanked here, with as many spaces (a wrapper keeps its function's
 * text), so every position the source map names stays where it was; calls that rename
 * (`__name(step2, "step")`) or name what would have no name stay. acorn parses the bundle.
 * test/entry/compile_cache.test.ts checks the exported classes' and functions' names.
 */
export function blankNoOpNames(code, sourceType = "script") {
  const ast = acorn.parse(code, { ecmaVersion: "latest", sourceType, allowReturnOutsideFunction: true });
  const edits = []; // [start, end, keptStart, keptEnd]: the text from start to end becomes that of kept…, then spaces
  /** __name(arg, "literal") -> [arg, literal], else null. */
  const nameCall = (n) =>
    n?.type === "CallExpression" &&
    n.callee.type === "Identifier" &&
    n.callee.name === "__name" &&
    n.arguments.length === 2 &&
    n.arguments[1].type === "Literal" &&
    typeof n.arguments[1].value === "string"
      ? [n.arguments[0], n.arguments[1].value]
      : null;
  /** The name JavaScript gives an anonymous function or class that is `parent`'s value, or null. */
  const namedBy = (parent, child) => {
    if (!parent) return null;
    if (parent.type === "VariableDeclarator" && parent.init === child && parent.id.type === "Identifier")
      return parent.id.name;
    if (parent.type === "AssignmentExpression" && parent.operator === "=" && parent.right === child)
      return parent.left.type === "Identifier" ? parent.left.name : null;
    if (parent.type === "AssignmentPattern" && parent.right === child && parent.left.type === "Identifier")
      return parent.left.name;
    if ((parent.type === "Property" || parent.type === "PropertyDefinition") && parent.value === child) {
      if (parent.computed || (parent.type === "Property" && (parent.kind !== "init" || parent.method))) return null;
      return parent.key.type === "Identifier"
        ? parent.key.name
        : typeof parent.key.value === "string"
          ? parent.key.value
          : null;
    }
    return null;
  };
  const anonymous = (n) =>
    (n.type === "ArrowFunctionExpression" || n.type === "FunctionExpression" || n.type === "ClassExpression") && !n.id;
  /** How `block`'s own statements (or a function's parameters) declare `name`: "function", "other" or null. */
  const declares = (scope, name) => {
    if (scope.params) return scope.params.some((p) => p.type === "Identifier" && p.name === name) ? "other" : null;
    for (const st of scope.body) {
      if (st.type === "FunctionDeclaration" && st.id?.name === name) return "function";
      if (st.type === "ClassDeclaration" && st.id?.name === name) return "other";
      if (
        st.type === "VariableDeclaration" &&
        st.declarations.some((d) => d.id.type === "Identifier" && d.id.name === name)
      )
        return "other";
    }
    return null;
  };
  const walk = (node, parent, scopes) => {
    if (!node || typeof node.type !== "string") return;
    // A function declaration named after itself: `function step(){…}` and, where `step` is that
    // function (the nearest scope declaring the name declares it so), `__name(step, "step");`.
    if (node.type === "ExpressionStatement") {
      const call = nameCall(node.expression);
      if (call && call[0].type === "Identifier" && call[0].name === call[1]) {
        let how = null;
        for (let i = scopes.length - 1; i >= 0 && how === null; i--) how = declares(scopes[i], call[1]);
        if (how === "function") edits.push([node.start, node.end, 0, 0]);
      }
    }
    // A wrapped anonymous function or class whose place gives it that very name.
    const call = nameCall(node);
    if (call && anonymous(call[0]) && namedBy(parent, node) === call[1])
      edits.push([node.start, node.end, call[0].start, call[0].end]);
    // A class's static block naming it what its declaration or its place names it.
    if ((node.type === "ClassDeclaration" || node.type === "ClassExpression") && node.body.body.length) {
      const first = node.body.body[0];
      const inner = first.type === "StaticBlock" && first.body.length === 1 ? first.body[0] : null;
      const named = inner?.type === "ExpressionStatement" ? nameCall(inner.expression) : null;
      const own = node.id ? node.id.name : namedBy(parent, node);
      if (named && named[0].type === "ThisExpression" && named[1] === own) edits.push([first.start, first.end, 0, 0]);
    }
    const inner =
      node.type === "Program" || node.type === "BlockStatement" || node.type === "StaticBlock"
        ? [...scopes, node]
        : /Function/.test(node.type)
          ? [...scopes, { params: node.params }]
          : scopes;
    for (const key of Object.keys(node)) {
      if (key === "type" || key === "start" || key === "end") continue;
      const v = node[key];
      if (Array.isArray(v)) for (const c of v) walk(c, node, inner);
      else if (v && typeof v.type === "string") walk(v, node, inner);
    }
  };
  walk(ast, null, []);
  // From the end backwards: an edit inside a wrapped function (a later start) is made before the
  // wrapper's, and keeps lengths, so the wrapper then keeps its argument's text with that edit in it.
  // In place, on the bytes (the bundle is ASCII: a character is a byte).
  edits.sort((x, y) => y[0] - x[0]);
  const out = Buffer.from(code, "latin1");
  for (const [start, end, keptStart, keptEnd] of edits) {
    out.copy(out, start, keptStart, keptEnd);
    out.fill(0x20, start + keptEnd - keptStart, end);
  }
  return out.toString("latin1");
}

/**
 * The library's files in `out` (dist/ by default): descent.cjs (+ .map), index.cjs, index.js and
 * data/worker_entry.js. Returns esbuild's metafile of descent.cjs.
 */
export async function buildLibrary(out = dist) {
  // Its entry also hands the loader the DataLoader worker's body, by a lazy require (the worker
  // thread runs it; a plain import would start it at every import). import.meta.url becomes the
  // bundle's own file URL (the package root is found from it). Without whitespace (the source map
  // maps back): a smaller file reads and parses faster, and its comments' non-ASCII characters no
  // longer make Node decode it as two-byte UTF-16 (~7 ms of W6 together, measured).
  const library = await build({
    absWorkingDir: root,
    stdin: {
      contents: [
        'export * from "./src/index.ts";',
        "// A DataLoader worker's body, for data/worker_entry.js; under a symbol, out of the exports' names.",
        'Object.defineProperty(module.exports, Symbol.for("descent-nn.internal"), {',
        '  value: { worker: () => require("./src/data/worker_entry.ts") },',
        "});",
      ].join("\n"),
      resolveDir: root,
      sourcefile: "descent-entry.js",
      loader: "js",
    },
    outfile: join(out, "descent.cjs"),
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node20",
    packages: "external",
    keepNames: true,
    minifyWhitespace: true,
    sourcemap: "linked",
    metafile: true,
    define: { "import.meta.url": "__descent_import_meta_url" },
    banner: { js: 'var __descent_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
    plugins: [builtinsWithoutNamespace],
    logLevel: "warning",
  });

  // The names src/index.ts exports (an ES build's metafile lists them), for index.js.
  const names = await build({
    absWorkingDir: root,
    entryPoints: ["src/index.ts"],
    outdir: out,
    write: false,
    bundle: true,
    format: "esm",
    platform: "node",
    packages: "external",
    metafile: true,
    plugins: [builtinsWithoutNamespace],
    logLevel: "warning",
  }).then((r) => Object.values(r.metafile.outputs).flatMap((o) => o.exports));
  if (names.length < 20 || names.includes("default")) throw new Error(`src/index.ts: unexpected exports ${names}`);

  // src/compile_cache.cjs decodes the bundle as Latin-1, which is its UTF-8 only while it is ASCII
  // (esbuild's default charset escapes every other character in strings and names).
  const built = readFileSync(join(out, "descent.cjs"));
  const wide = built.findIndex((b) => b > 0x7f);
  if (wide >= 0) throw new Error(`descent.cjs: a non-ASCII byte at ${wide}; src/compile_cache.cjs reads it as Latin-1`);
  const bundleBytes = Buffer.from(blankNoOpNames(built.toString("latin1")), "latin1");
  writeFileSync(join(out, "descent.cjs"), bundleBytes);

  // The cache key: a new version or a new build never reads an older build's compiled code.
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  // The loader's text too: V8 checks only the length of the source it compiled (the bundle in the
  // loader's wrapper), so a new wrapper of the same length must not meet an old cache.
  const loader = readFileSync(join(root, "src/compile_cache.cjs"), "utf8");
  const hash = createHash("sha256").update(bundleBytes).update(loader).digest("hex").slice(0, 16);
  if (!loader.includes('"__DESCENT_BUNDLE_KEY__"'))
    throw new Error("src/compile_cache.cjs: no __DESCENT_BUNDLE_KEY__ to replace");
  writeFileSync(
    join(out, "index.cjs"),
    loader.replace('"__DESCENT_BUNDLE_KEY__"', JSON.stringify(`${pkg.version}-${hash}`)),
  );
  writeFileSync(
    join(out, "index.js"),
    [
      "// descent-nn as an ES module: the names of index.cjs, which loads the library (scripts/build.mjs).",
      'const api = process.getBuiltinModule("node:module").createRequire(import.meta.url)("./index.cjs");',
      `export const { ${names.join(", ")} } = api;`,
      "",
    ].join("\n"),
  );
  mkdirSync(join(out, "data"), { recursive: true });
  writeFileSync(
    join(out, "data/worker_entry.js"),
    [
      "// A DataLoader worker thread starts here (src/data/workers.ts): the worker's body, from the library,",
      "// loaded without the compile cache (its import() of the user's dataset module fails in cached code).",
      'globalThis[Symbol.for("descent-nn.plain-load")] = true;',
      'const load = process.getBuiltinModule("node:module").createRequire(import.meta.url);',
      'load("../index.cjs")[Symbol.for("descent-nn.internal")].worker();',
      "",
    ].join("\n"),
  );
  return library;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  rmSync(dist, { recursive: true, force: true }); // no stale per-file output of an older build
  execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], {
    cwd: root,
    stdio: "inherit",
  });
  const library = await buildLibrary();

  const cli = await build({
    absWorkingDir: root,
    entryPoints: { "cli/main": "src/cli/main.ts" },
    outdir: "dist",
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    keepNames: true,
    sourcemap: "linked",
    metafile: true,
    plugins: [builtinsWithoutNamespace],
    logLevel: "warning",
  });

  // The CLI's bundle, an ES module, likewise (its bytes as Latin-1: a byte a character, for acorn's positions).
  const cliFile = join(dist, "cli/main.js");
  writeFileSync(cliFile, blankNoOpNames(readFileSync(cliFile, "latin1"), "module"), "latin1");

  const validators = await build({
    absWorkingDir: root,
    entryPoints: ["src/cli/config_validators.cjs"],
    minify: true, // generated code, read by no one: the smaller file parses faster
    outfile: "dist/cli/config_validators.cjs",
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node20",
    metafile: true,
    logLevel: "warning",
  });

  const outputs = [cli, library, validators]
    .flatMap((r) => Object.entries(r.metafile.outputs))
    .filter(([f]) => /\.c?js$/.test(f));
  const kb = (n) => `${(n / 1024).toFixed(0)} kB`;
  // On stderr: `npm pack --json` runs this (prepare) and parses its stdout.
  console.error(`esbuild: ${outputs.map(([f, o]) => `${f.replace(/^dist\//, "")} ${kb(o.bytes)}`).join(", ")}`);
}
