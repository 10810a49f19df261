// The new-user check of issue 17: pack descent-nn as npm would publish it, install the tarball into
// a fresh CommonJS project (`npm init -y`, the default) and a fresh ESM one, and run the README's
// quick example in both (`require` in one, `import` in the other), then the CLI as `npx descent-nn`.
// Fails (exit 1) on the first difference. CI runs it (.ci/run); by hand: `node scripts/package_check.mjs`.
// Needs the npm registry for the package's own dependencies, as a user's install does.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
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
  const packed = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", work], root));
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
      // The CLI's config check (ajv, loaded on first use) works from the installed package.
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
  }
  console.log("package check passed");
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  if (e && typeof e === "object" && "stderr" in e) console.error(String(e.stderr));
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
