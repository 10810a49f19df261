// The new-user check of issue 17: pack descent-nn as npm would publish it, install the tarball into
// a fresh CommonJS project (`npm init -y`, the default) and a fresh ESM one, and run the README's
// quick example in both (`require` in one, `import` in the other), then the CLI as `npx descent-nn`.
// In the ESM project it also checks the bundle (scripts/build.mjs, issue 15): importing the package
// reads at most MAX_FILES of its files, and a DataLoader's worker threads start from the installed
// dist/ (they find their entry file from the package root).
// Fails (exit 1) on the first difference. CI runs it (.ci/run); by hand: `node scripts/package_check.mjs`.
// Needs the npm registry for the package's own dependencies, as a user's install does.

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
/** dist/index.js and what it loads as modules (dist/index.cjs reads the library's bundle, dist/descent.cjs, itself). */
const MAX_FILES = 3;
/** A module hook that prints each file of the package the loader reads. */
const COUNT_HOOKS = `export async function load(url, context, next) {
  if (url.includes("/node_modules/descent-nn/")) process.stderr.write("@@file " + url + "\\n");
  return next(url, context);
}`;
/** DataLoader with 2 worker threads over a TensorDataset, from the installed package. */
const WORKERS = `import { data, tensor } from "descent-nn";
const ds = new data.TensorDataset(tensor([[1], [2], [3], [4], [5]]), tensor([0, 1, 0, 1, 0]));
let rows = 0;
for (const [x] of new data.DataLoader(ds, { batchSize: 2, numWorkers: 2 })) rows += x.shape[0];
console.log("worker rows", rows);
`;
const work = mkdtempSync(join(tmpdir(), "descent-package-"));
const run = (cmd, args, cwd) => {
  console.log(`+ (${cwd === root ? "." : cwd}) ${cmd} ${args.join(" ")}`);
  return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
};

/** The README's "A quick example" code block, plus lines that print what the test compares. */
function readmeExample() {
  const text = readFileSync(join(root, "README.md"), "utf8");
  const m = /## A quick example\n+```ts\n([\s\S]*?)```/.exec(text);
  if (!m) throw new Error("README.md: no ts code block under '## A quick example'");
  return `${m[1]}console.log("final loss", lossFn.forward(model.forward(inputs), targets).item());\n`;
}

function check(output, kind) {
  const want = ["14", "[ 2, 4, 6 ]"];
  for (const w of want) if (!output.includes(w)) throw new Error(`${kind}: expected "${w}" in the output:\n${output}`);
  const loss = Number(/final loss (\S+)/.exec(output)?.[1]);
  if (!(loss < 0.05)) throw new Error(`${kind}: the example's regression did not learn (final loss ${loss})`);
  console.log(`${kind}: README example ok (final loss ${loss.toFixed(5)})`);
}

try {
  // `npm pack` runs `prepare` (the build), whose steps print lines on stdout before npm's JSON array.
  const packOut = run("npm", ["pack", "--json", "--pack-destination", work], root);
  const packed = JSON.parse(packOut.slice(Math.max(0, packOut.search(/^\[/m))));
  const tarball = join(work, packed[0].filename);
  // The config schema ships, for editors ("$schema": "./node_modules/descent-nn/config.schema.json").
  if (!packed[0].files.some((f) => f.path === "schema/config.schema.json"))
    throw new Error("the packed package lacks schema/config.schema.json");
  const example = readmeExample();
  const importLine = /^import \{([^}]*)\} from "descent-nn";$/m;
  if (!importLine.test(example))
    throw new Error('README example: expected one `import { ... } from "descent-nn"` line');

  for (const kind of ["commonjs", "module"]) {
    const dir = join(work, kind);
    run("mkdir", ["-p", dir], work);
    run("npm", ["init", "-y"], dir);
    if (kind === "module") run("npm", ["pkg", "set", "type=module"], dir);
    run("npm", ["install", "--no-audit", "--no-fund", tarball], dir);
    const source =
      kind === "commonjs"
        ? example.replace(importLine, (_, names) => `const {${names}} = require("descent-nn");`)
        : example;
    writeFileSync(join(dir, "index.js"), source);
    check(run("node", ["index.js"], dir), kind);
    const help = run("npx", ["--no-install", "descent-nn", "--help"], dir);
    if (!/descent/i.test(help) || !/train/.test(help))
      throw new Error(`${kind}: npx descent-nn --help printed:\n${help}`);
    console.log(`${kind}: npx descent-nn --help ok`);
    if (kind === "commonjs") {
      const schema = run("node", ["-p", 'require.resolve("descent-nn/config.schema.json")'], dir).trim();
      if (JSON.parse(readFileSync(schema, "utf8")).title !== "descent-nn training config")
        throw new Error(`${kind}: descent-nn/config.schema.json resolved to ${schema}, not the config schema`);
      console.log(`${kind}: require.resolve("descent-nn/config.schema.json") ok`);
      // The CLI's config check (dist/cli/config_validators.cjs, loaded on first use; no ajv installed) works
      // from the installed package.
      writeFileSync(join(dir, "typo.json"), JSON.stringify({ model: { layers: [] }, data: {}, epoch: 1 }));
      let stderr = "";
      try {
        run("npx", ["--no-install", "descent-nn", "train", "typo.json"], dir);
      } catch (e) {
        stderr = String(e.stderr);
      }
      if (!/unknown field "epoch"; did you mean "epochs"\?/.test(stderr))
        throw new Error(`${kind}: descent-nn train typo.json did not name the typo:\n${stderr}`);
      console.log(`${kind}: descent-nn train checks the config ok`);
    }
    if (kind !== "module") continue;
    writeFileSync(join(dir, "hooks.mjs"), COUNT_HOOKS);
    writeFileSync(
      join(dir, "register.mjs"),
      'import { register } from "node:module";\nregister("./hooks.mjs", import.meta.url);\n',
    );
    writeFileSync(join(dir, "import_only.js"), 'import "descent-nn";\n');
    const r = spawnSync("node", ["--import", "./register.mjs", "import_only.js"], { cwd: dir, encoding: "utf8" });
    const files = (r.stderr ?? "").split("\n").filter((l) => l.startsWith("@@file "));
    if (r.status !== 0 || files.length === 0 || files.length > MAX_FILES)
      throw new Error(`import "descent-nn" read ${files.length} package files (at most ${MAX_FILES}):\n${r.stderr}`);
    console.log(`module: import "descent-nn" reads ${files.length} files of the package`);
    writeFileSync(join(dir, "workers.js"), WORKERS);
    const rows = run("node", ["workers.js"], dir);
    if (!/worker rows 5/.test(rows)) throw new Error(`DataLoader with numWorkers 2 printed:\n${rows}`);
    console.log("module: DataLoader worker threads ok");
  }
  console.log("package check passed");
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  if (e && typeof e === "object" && "stderr" in e) console.error(String(e.stderr));
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
