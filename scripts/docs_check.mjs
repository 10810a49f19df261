// `npm run docs:check` (issue 17): every export reachable from src/index.ts must carry a doc comment.
// Converts the project with TypeDoc (typedoc.json), walks the same reflections TypeDoc's own
// `validation.notDocumented` walks (classes, interfaces, functions, type aliases, variables and their
// public properties, methods and accessors), counts each declaration once (an inherited member is
// counted where it is declared, not once per subclass), prints every undocumented name with its file
// and line, and exits 1 when one is missing that scripts/docs_undocumented_allow.txt does not list.
// That allow-list is the debt still to pay: it only shrinks. `--strict` ignores it; `--list` prints
// the current undocumented names in the allow-list's format (to regenerate it after a merge).
// Unless `--no-site`, it also renders the site to docs/api (as `npm run docs` does) and checks that
// nn.Conv2d's page exists and carries its doc comment (the page a reader of the reference opens).
// TypeDoc's other warnings (a type referenced but not exported, a broken {@link}) also fail the check.
import { Application, Comment, ReflectionKind, DeclarationReflection, ReflectionType } from "typedoc";

import { existsSync, readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";

const args = new Set(process.argv.slice(2));
const strict = args.has("--strict");
const listOnly = args.has("--list");
const allowPath = new URL("./docs_undocumented_allow.txt", import.meta.url);

const app = await Application.bootstrapWithPlugins({
  // Our walk replaces TypeDoc's notDocumented pass (which repeats inherited members per subclass).
  validation: { notExported: true, invalidLink: true, notDocumented: false },
  logLevel: "Warn",
});
let otherWarnings = 0;
const warn = app.logger.warn.bind(app.logger);
app.logger.warn = (msg, ...rest) => {
  otherWarnings++;
  warn(msg, ...rest);
};
const project = await app.convert();
if (!project) {
  console.error("docs:check: TypeDoc could not convert the project");
  process.exit(1);
}
app.validate(project);

const K = ReflectionKind;
const kinds =
  K.Class |
  K.Interface |
  K.Function |
  K.TypeAlias |
  K.Variable |
  K.Enum |
  K.EnumMember |
  K.Property |
  K.Method |
  K.Accessor;

const inherited = (r) => Boolean(r.inheritedFrom) || Boolean(r.parent?.inheritedFrom);
// An override without its own comment (a layer's forward) is documented by the member it overrides,
// which its page links to ("Overrides Module.forward"); the class comment gives the layer's shapes.
// TypeDoc copies a base class's comment onto a subclass that has none (every layer would read as
// "The base class of every layer"): a class whose summary is its base's counts as undocumented.
const text = (c) => (c ? Comment.combineDisplayParts(c.summary) : "");
const documented = (r) => {
  if (r.kindOf(K.Class)) {
    const base = r.extendedTypes?.[0]?.reflection;
    if (base?.comment && text(r.comment) === text(base.comment)) return false;
  }
  if (r.hasComment()) return true;
  const base = r.overwrites?.reflection ?? r.implementationOf?.reflection;
  if (base && base !== r && documented(base)) return true;
  const sigs =
    r instanceof DeclarationReflection
      ? r.type instanceof ReflectionType
        ? r.type.declaration.getNonIndexSignatures()
        : r.getNonIndexSignatures()
      : [];
  if (r.getSignature?.hasComment() || r.setSignature?.hasComment()) return true;
  return sigs.length > 0 && sigs.some((s) => s.hasComment());
};

const seen = new Set();
const missing = [];
let total = 0;
for (const r of project.getReflectionsByKind(kinds)) {
  if (inherited(r) || r.flags.isPrivate || r.flags.isProtected) continue;
  // Members of an inline object type (an option bag typed in place) are documented with their owner.
  let p = r.parent;
  let insideLiteral = false;
  while (p) {
    if (p.kindOf(K.TypeLiteral) || p.kindOf(K.Parameter)) insideLiteral = true;
    p = p.parent;
  }
  if (insideLiteral) continue;
  const src = r.sources?.[0];
  const where = src ? `${src.fileName}:${src.line}` : "?";
  const key = `${r.getFriendlyFullName()}@${src?.fileName ?? "?"}`;
  if (seen.has(key)) continue;
  seen.add(key);
  total++;
  if (!documented(r)) missing.push({ name: r.getFriendlyFullName(), kind: K[r.kind], where });
}

missing.sort((a, b) => a.name.localeCompare(b.name));
if (listOnly) {
  for (const m of missing) console.log(m.name);
  process.exit(0);
}
const allow = strict
  ? new Set()
  : new Set(
      readFileSync(allowPath, "utf8")
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith("#")),
    );
const fresh = missing.filter((m) => !allow.has(m.name));
const stale = [...allow].filter((n) => !missing.some((m) => m.name === n));

console.log(`docs:check: ${total - missing.length} of ${total} exported declarations documented`);
if (missing.length - fresh.length > 0)
  console.log(`  ${missing.length - fresh.length} undocumented but allowed (scripts/docs_undocumented_allow.txt)`);
if (stale.length)
  console.log(
    `  ${stale.length} allow-list entries are now documented or gone; remove them:\n    ${stale.join("\n    ")}`,
  );
if (fresh.length) {
  console.log(`  ${fresh.length} undocumented export(s):`);
  for (const m of fresh) console.log(`    ${m.name} (${m.kind}) ${m.where}`);
}
let siteOk = true;
if (!args.has("--no-site") && !listOnly) {
  const out = app.options.getValue("out");
  await app.generateDocs(project, out);
  const page = `${out}/classes/nn.Conv2d.html`;
  const html = existsSync(page) ? readFileSync(page, "utf8") : "";
  siteOk = html.includes("Conv2d") && html.includes("PyTorch");
  console.log(`  site: ${out}/index.html; ${page} ${siteOk ? "ok" : "missing or without its doc comment"}`);
  // As a reader would: headless Chromium renders the nn namespace page, which must link to
  // nn.Conv2d's page, and that page (required when DESCENT_REQUIRE_CHROMIUM=1, as in CI).
  const chromium = "/usr/bin/chromium";
  if (existsSync(chromium)) {
    const dom = (file) =>
      execFileSync(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", `file://${resolve(file)}`], {
        encoding: "utf8",
        timeout: 60_000,
        stdio: ["ignore", "pipe", "ignore"],
      });
    const linked = dom(`${out}/modules/nn.html`).includes('href="../classes/nn.Conv2d.html"');
    const rendered = linked && /Conv2d[\s\S]*PyTorch/.test(dom(page));
    console.log(`  chromium: nn → nn.Conv2d ${rendered ? "ok" : "not found"}`);
    siteOk &&= rendered;
  } else if (process.env.DESCENT_REQUIRE_CHROMIUM === "1") {
    console.log(`  chromium: ${chromium} missing (DESCENT_REQUIRE_CHROMIUM=1)`);
    siteOk = false;
  }
}
if (otherWarnings) console.log(`  ${otherWarnings} other TypeDoc warning(s) above`);
const failed = !siteOk || fresh.length > 0 || otherWarnings > 0 || app.logger.hasErrors();
if (failed) console.log("docs:check failed: add a /** ... */ comment (what, shapes, PyTorch equivalent)");
process.exit(failed ? 1 : 0);
