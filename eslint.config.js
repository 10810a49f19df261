// ESLint flat config. Besides the usual recommended sets it enforces DESIGN.md's direction of
// imports (cli → index → {nn, optim, data, io} → tensor → {autograd, ops} → backends → core) with
// one `@typescript-eslint/no-restricted-imports` block per layer, and forbids cycles in src/.
// Syntax-only (no type information), so `eslint .` stays fast.

import js from "@eslint/js";
import tseslint from "typescript-eslint";
import importX from "eslint-plugin-import-x";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";

/**
 * What each folder of src/ may import. `values`: any import; `types`: `import type` only.
 * A layer may always import its own folder; everything not listed is forbidden.
 * "index" is src/index.ts (the public API), "cli" is src/cli/.
 */
/** Every layer below index: what the public barrel (and so the CLI) may import. */
const INDEX_IMPORTS = [
  "onnx",
  "compile",
  "distributed",
  "train",
  "nn",
  "optim",
  "data",
  "io",
  "tensor",
  "autograd",
  "ops",
  "backends",
  "core",
];
const LAYERS = {
  core: { values: [], types: [] },
  backends: { values: ["core"], types: [] },
  ops: { values: ["backends", "core"], types: ["tensor", "autograd"] },
  autograd: { values: ["backends", "core"], types: ["tensor", "ops"] },
  tensor: { values: ["autograd", "ops", "backends", "core"], types: [] },
  nn: { values: ["tensor", "autograd", "core"], types: [] },
  optim: { values: ["nn", "tensor", "autograd", "core"], types: [] },
  data: { values: ["distributed", "tensor", "autograd", "core"], types: [] },
  io: { values: ["nn", "optim", "tensor", "autograd", "core"], types: [] },
  distributed: { values: ["nn", "tensor", "autograd", "core"], types: [] },
  onnx: { values: ["nn", "tensor", "autograd", "core"], types: [] },
  // compile plans a forward for the backends' plan executors (src/backends/plan), so it sees backends.
  compile: { values: ["nn", "tensor", "autograd", "ops", "backends", "core"], types: [] },
  train: { values: ["compile", "distributed", "io", "data", "nn", "optim", "tensor", "autograd", "core"], types: [] },
  index: { values: INDEX_IMPORTS, types: [] },
  // The CLI may import what index may, and index itself.
  cli: { values: ["index", ...INDEX_IMPORTS], types: [] },
};
const NAMES = Object.keys(LAYERS);
const MAX_DEPTH = 5; // folders below src/<layer>/ that get the rule (backends/js is depth 2)

/** Regex for a relative specifier that, seen from `up` levels below src/, names one of `targets`. */
function specifierRegex(up, targets) {
  const prefix = up === 0 ? "\\./" : "(\\.\\./){" + up + "}";
  // A folder ("../ops/unary.js") or the root module src/index.ts ("../index.js").
  const names = targets.map((t) => (t === "index" ? "index(\\.js)?$" : `${t}(/|$)`));
  return `^${prefix}(${names.join("|")})`;
}

/** The `patterns` for a file of `layer` sitting `up` folders below src/. */
function layerPatterns(layer, up) {
  const { values, types } = LAYERS[layer];
  const forbidden = NAMES.filter((n) => n !== layer && !values.includes(n) && !types.includes(n));
  const patterns = [
    {
      regex: "^descent-nn(/|$)",
      message: "Inside src/, import the module itself with a relative path, not the package name.",
    },
    {
      regex: `^(\\.\\./){${up + 1}}(test|bench|examples|scripts)(/|$)`,
      message: "src/ must not import from test/, bench/, examples/ or scripts/.",
    },
  ];
  if (forbidden.length > 0) {
    patterns.push({
      regex: specifierRegex(up, forbidden),
      message: `src/${layer} may not import ${forbidden.join(", ")} (DESIGN.md: imports point one way).`,
    });
  }
  if (types.length > 0) {
    patterns.push({
      regex: specifierRegex(up, types),
      allowTypeImports: true,
      message: `src/${layer} may see ${types.join(", ")} only through \`import type\` (DESIGN.md).`,
    });
  }
  return patterns;
}

/** One config block per layer and depth, so each regex knows how many `../` lead back to src/. */
function layerConfigs() {
  const configs = [];
  for (const layer of NAMES) {
    if (layer === "index") {
      // src/index.ts and any other module directly in src/.
      configs.push({ files: ["src/*.ts"], patterns: layerPatterns(layer, 0) });
      continue;
    }
    for (let up = 1; up <= MAX_DEPTH; up++) {
      configs.push({ files: [`src/${layer}/${"*/".repeat(up - 1)}*.ts`], patterns: layerPatterns(layer, up) });
    }
  }
  return configs.map(({ files, patterns }) => ({
    files,
    rules: { "@typescript-eslint/no-restricted-imports": ["error", { patterns }] },
  }));
}

const nodeGlobals = {
  process: "readonly",
  console: "readonly",
  Buffer: "readonly",
  URL: "readonly",
  setTimeout: "readonly",
  clearTimeout: "readonly",
};

const RAW_MESSAGE =
  "Above src/backends/ a tensor's `data` is the backend's storage handle: read and write values through item(), toFlatArray(), writeFlat_(), fromHost() or backend().read/write (src/backends/README.md).";
const RAW_STORAGE = [
  "MemberExpression[object.type='MemberExpression'][object.property.name='data']",
  "MemberExpression[object.type=/^TS(As|NonNull)Expression$/][object.expression.property.name='data']",
  "VariableDeclarator[init.type='MemberExpression'][init.property.name='data']",
  "AssignmentExpression[right.type='MemberExpression'][right.property.name='data']",
  "VariableDeclarator[id.type='ObjectPattern'] > ObjectPattern > Property[key.name='data']",
];

export default [
  // src/cli/config_validators.cjs is ajv's generated code (npm run schema), not written by hand.
  {
    ignores: [
      "dist/",
      "node_modules/",
      "test/fixtures/",
      "build/",
      "coverage/",
      ".whl/",
      ".gl/",
      "docs/api/",
      "src/cli/config_validators.cjs",
    ],
  },

  js.configs.recommended,
  ...tseslint.configs.recommended,

  {
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: nodeGlobals },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "no-console": "error",
      "@typescript-eslint/no-explicit-any": "warn",
      "@typescript-eslint/no-unused-vars": [
        "error",
        {
          argsIgnorePattern: "^_",
          varsIgnorePattern: "^_",
          caughtErrorsIgnorePattern: "^_",
          destructuredArrayIgnorePattern: "^_",
        },
      ],
      // `import { type T }` still loads the module at run time under verbatimModuleSyntax; the layer
      // rule treats it as type-only, so require `import type { T }`, which is erased.
      "@typescript-eslint/no-import-type-side-effects": "error",
    },
  },

  // src/compile_cache.cjs (dist/index.cjs, scripts/build.mjs) is CommonJS: the package's entry.
  {
    files: ["src/compile_cache.cjs"],
    languageOptions: {
      sourceType: "commonjs",
      globals: { ...nodeGlobals, require: "readonly", module: "writable", __dirname: "readonly" },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },

  {
    files: ["src/cli/**", "bench/**", "examples/**", "scripts/**"],
    rules: { "no-console": "off" },
  },

  // Cycles in the library. Type-only imports are erased and do not count.
  {
    files: ["src/**/*.ts"],
    plugins: { "import-x": importX },
    settings: {
      "import-x/extensions": [".ts", ".js"],
      "import-x/external-module-folders": ["node_modules", "node_modules/@types"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts"] },
      "import-x/resolver-next": [createTypeScriptImportResolver({ project: "tsconfig.json" })],
    },
    rules: { "import-x/no-cycle": ["error", { ignoreExternal: true }] },
  },

  ...layerConfigs(),

  // Storage behind one door (src/backends/storage.ts): above src/backends/ a tensor's `data` is
  // the backend's opaque handle. It may be passed on (to a kernel's view, a version key) but not
  // indexed, sliced, bound to a variable or reached through: values go through item(),
  // toFlatArray(), writeFlat_(), fromHost() or the backend's read/write.
  {
    files: ["src/**/*.ts"],
    ignores: ["src/backends/**"],
    rules: {
      "no-restricted-syntax": ["error", ...RAW_STORAGE.map((selector) => ({ selector, message: RAW_MESSAGE }))],
    },
  },
];
