// The browser demo (examples/browser/) in a real browser: serves it locally (COOP/COEP on, as the
// wasm backend's threads need), drives Debian's headless Chromium over the DevTools protocol
// (cdp.ts), and checks that the MLP trains in its worker to >= 95% held-out accuracy while the page
// answers, that the loss chart is drawn, that a drawn digit gets a guess, that a model saved by
// `descent demo` (the CLI's training run) loads and predicts as it does in Node, and that nothing
// reached the console as an error. The page is cross-origin isolated, so the wasm backend runs its
// products on Web Workers started from the training worker: the test sees them attach and asks them
// how many products they took part in. A second test serves the page without isolation: one
// thread, and the same accuracy as the threaded run; and on the isolated page's own thread (which
// may not block, so it polls for its workers) a threaded product agrees with the js backend. Keeps a screenshot (test/browser/out/demo.png, git-ignored).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Browser, errorOf } from "./cdp.js";
import { demo } from "../../src/cli/demo.js";
import { loadFile, nn, noGrad, tensor, type Tensor } from "../../src/index.js";
// @ts-expect-error: plain .mjs files without declarations
import { buildBrowser } from "../../scripts/build_browser.mjs";
// @ts-expect-error: plain .mjs files without declarations
import { serve } from "../../examples/browser/serve.mjs";
// @ts-expect-error: plain .js files without declarations
import { modelFromFile } from "../../examples/browser/digits.js";

const CHROMIUM = "/usr/bin/chromium";
const OUT = fileURLToPath(new URL("./out/", import.meta.url));
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
const skip =
  existsSync(CHROMIUM) || process.env["DESCENT_REQUIRE_CHROMIUM"] === "1"
    ? false
    : `${CHROMIUM} is absent: apt-get install -y chromium`;
type Server = { url: string; close(): Promise<void> };
type State = {
  done: boolean;
  error: string | null;
  accuracy: number | null;
  seconds: number | null;
  losses: number[][];
  backend: string;
  threads: number | null;
};

/** The wasm backend's pool workers (Web Workers from a Blob URL) among the attached targets, by session. */
function watch(browser: Browser, errors: string[]): string[] {
  const pool: string[] = [];
  browser.on((m) => {
    const e = errorOf(m);
    if (e) errors.push(e);
    // A worker's session: turn its Runtime events on too, so its errors are seen, and attach the
    // workers it starts (the wasm backend's threads) the same way.
    if (m.method === "Target.attachedToTarget") {
      const p = m.params as { sessionId: string; targetInfo: { url: string } };
      const s = p.sessionId;
      if (p.targetInfo.url.startsWith("blob:")) pool.push(s);
      browser.send("Runtime.enable", {}, s).catch(() => {});
      browser.send("Target.setAutoAttach", { autoAttach: true, waitForDebuggerOnStart: false, flatten: true }, s);
      browser.send("Runtime.runIfWaitingForDebugger", {}, s).catch(() => {});
    }
  });
  return pool;
}

/** Products the pool's workers took part in: asked in one of them once it waits in its event loop (idle > 1 s). */
async function poolJobs(browser: Browser, pool: string[]): Promise<number> {
  await sleep(1500);
  return browser.evaluate<number>(pool[0]!, "self.descentPoolJobs()");
}

test(
  "the browser demo trains in a worker to >= 95%, draws its chart, guesses a drawn digit and loads a CLI model",
  // CI installs chromium and sets DESCENT_REQUIRE_CHROMIUM=1, so there a missing browser fails the test.
  { skip, timeout: 300_000 },
  async (t) => {
    const tmp = mkdtempSync(join(tmpdir(), "descent-browser-demo-"));
    const bundle = join(tmp, "descent.browser.js");
    await (buildBrowser as (f: string) => Promise<unknown>)(bundle);
    // A model saved by the CLI's training run (`descent demo`, a short one), served as /model.safetensors.
    const sink = { write: () => true };
    const run = demo({ epochs: 1, limit: 1000, output: join(tmp, "run"), log: "silent" }, sink);
    const server = await (serve as (o: object) => Promise<Server>)({
      port: 0,
      bundle,
      files: { "/model.safetensors": run.modelPath },
    });
    const browser = Browser.launch(CHROMIUM, join(tmp, "profile"));
    const errors: string[] = [];
    const pool = watch(browser, errors);
    try {
      const page = await browser.newPage();
      const t0 = performance.now();
      await browser.send("Page.navigate", { url: server.url }, page);
      let state: State | null = null;
      let slowest = 0;
      // Training takes ~30 s of CPU; the deadline leaves room for a machine shared with other jobs.
      while (performance.now() - t0 < 240_000) {
        await sleep(250);
        const asked = performance.now();
        state = await browser.evaluate<State | null>(page, "window.demo ? window.demo.state : null");
        // The page answers while the worker trains (from its first loss to its end): its main thread
        // is never blocked for long. Trained on the page's thread, it would not answer for the whole run.
        if (state && state.losses.length > 0 && !state.done) slowest = Math.max(slowest, performance.now() - asked);
        if (state?.done || state?.error) break;
      }
      assert.ok(state, "the page set window.demo");
      assert.equal(state.error, null);
      assert.ok(state.done, `training finished in time (${JSON.stringify({ ...state, losses: state.losses.length })})`);
      t.diagnostic(
        `trained in the page's worker (backend ${state.backend}): held-out accuracy ${(100 * state.accuracy!).toFixed(2)}% in ${state.seconds!.toFixed(1)} s of training; the page answered within ${slowest.toFixed(0)} ms meanwhile`,
      );
      assert.equal(state.backend, "wasm", "the worker trains on the wasm backend");
      assert.ok(state.accuracy! >= 0.95, `accuracy ${state.accuracy} < 0.95`);
      assert.ok(slowest < 3000, `the page took ${slowest.toFixed(0)} ms to answer during training`);
      assert.ok(state.losses.length >= 20);
      // Threads: the isolated page's wasm backend runs its large products (the held-out evaluations) on workers.
      assert.ok(state.threads! > 1, `the wasm backend runs on ${state.threads} thread(s)`);
      assert.equal(pool.length, state.threads! - 1, "one pool worker per thread beyond the caller");
      const jobs = await poolJobs(browser, pool);
      t.diagnostic(`${state.threads} threads; the pool's workers took part in ${jobs} products`);
      assert.ok(jobs > 0, "the pool's workers ran products");

      // The chart: pixels of the loss curve's colour (#d33) on the canvas.
      const curve = await browser.evaluate<number>(
        page,
        `(() => { const c = document.getElementById("chart"); const p = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
          let n = 0; for (let i = 0; i < p.length; i += 4) if (p[i] > 150 && p[i + 1] < 100 && p[i + 3] > 0) n++; return n; })()`,
      );
      assert.ok(curve > 300, `only ${curve} pixels of the loss curve`);

      // Draw a stroke in the box with the mouse: the page guesses a digit.
      const box = await browser.evaluate<{ x: number; y: number }>(
        page,
        `(() => { const p = document.getElementById("pad"); p.scrollIntoView(); const r = p.getBoundingClientRect(); return { x: r.left, y: r.top }; })()`,
      );
      const mouse = (type: string, x: number, y: number) =>
        browser.send(
          "Input.dispatchMouseEvent",
          {
            type,
            x: box.x + x,
            y: box.y + y,
            button: "left",
            buttons: type === "mouseReleased" ? 0 : 1,
            clickCount: 1,
          },
          page,
        );
      await mouse("mousePressed", 140, 40);
      for (let y = 50; y <= 240; y += 10) await mouse("mouseMoved", 140, y);
      await mouse("mouseReleased", 140, 240);
      const guess = await browser.evaluate<string>(page, `document.getElementById("guess").textContent`);
      assert.match(guess, /^\d$/);

      // The CLI's model: loaded in the page, it gives Node's probabilities on a few digits.
      const keys = await browser.evaluate<number>(page, `window.demo.loadModel("/model.safetensors")`);
      const file = loadFile(run.modelPath);
      assert.equal(keys, Object.keys(file.tensors).length);
      const { model } = modelFromFile({ nn }, file) as { model: nn.Sequential };
      const px = Array.from({ length: 3 }, (_, k) =>
        Array.from({ length: 784 }, (_, i) => ((i * 7 + k * 31) % 97) / 96),
      );
      for (const p of px) {
        const got = await browser.evaluate<number[]>(page, `window.demo.predict(${JSON.stringify(p)})`);
        const want = noGrad(() => (model.forward(tensor([p])) as Tensor).softmax(1)).toArray() as number[][];
        for (let i = 0; i < 10; i++)
          assert.ok(Math.abs(got[i]! - want[0]![i]!) < 1e-5, `class ${i}: ${got[i]} vs ${want[0]![i]}`);
      }

      await browser.evaluate(page, "window.scrollTo(0, 0)");
      mkdirSync(OUT, { recursive: true });
      const shot = join(OUT, "demo.png");
      const { data } = await browser.send("Page.captureScreenshot", { format: "png" }, page);
      writeFileSync(shot, Buffer.from(data as string, "base64"));
      t.diagnostic(`screenshot: ${shot}`);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.close();
      rmSync(tmp, { recursive: true, force: true });
    }
  },
);

test(
  "without cross-origin isolation the demo trains on one wasm thread, to the threaded run's accuracy; a page's own thread runs threaded products too",
  { skip, timeout: 120_000 },
  async (t) => {
    const tmp = mkdtempSync(join(tmpdir(), "descent-browser-single-"));
    const bundle = join(tmp, "descent.browser.js");
    await (buildBrowser as (f: string) => Promise<unknown>)(bundle);
    const start = serve as (o: object) => Promise<Server>;
    const servers = [await start({ port: 0, bundle }), await start({ port: 0, bundle, isolated: false })];
    const browser = Browser.launch(CHROMIUM, join(tmp, "profile"));
    const errors: string[] = [];
    const pool = watch(browser, errors);
    try {
      const states: State[] = [];
      const pages: string[] = [];
      for (const server of servers) {
        const page = await browser.newPage();
        pages.push(page);
        await browser.send("Page.navigate", { url: `${server.url}?epochs=1` }, page);
        let state: State | null = null;
        for (const t0 = performance.now(); performance.now() - t0 < 90_000; await sleep(250)) {
          state = await browser.evaluate<State | null>(page, "window.demo ? window.demo.state : null");
          if (state?.done || state?.error) break;
        }
        assert.ok(state?.done, `trained: ${JSON.stringify(state)}`);
        states.push(state);
      }
      const [iso, single] = states as [State, State];
      t.diagnostic(
        `one epoch: ${iso.threads} threads ${iso.accuracy}, not isolated ${single.threads} ${single.accuracy}`,
      );
      assert.equal(single.backend, "wasm");
      assert.equal(single.threads, 1);
      assert.ok(iso.threads! > 1);
      assert.equal(pool.length, iso.threads! - 1, "no pool worker started on the page without isolation");
      // The column split changes no sum's order: the same held-out accuracy either way.
      assert.equal(single.accuracy, iso.accuracy);
      assert.ok(single.accuracy! > 0.85, `accuracy ${single.accuracy}`);

      // The isolated page's own thread (where Atomics.wait is refused, so it polls for its workers)
      // runs a threaded product as the js backend does.
      const before = pool.length;
      const diff = await browser.evaluate<{ threads: number; diff: number }>(
        pages[0]!,
        `(async () => {
          const d = await import("/descent.browser.js");
          await d.initWasm(new URL("/descent.wasm", location.href));
          d.setBackend("wasm");
          await new Promise((ok) => setTimeout(ok, 1000)); // the workers start meanwhile
          d.manualSeed(1);
          const a = d.randn([150, 300]), b = d.randn([300, 200]);
          const got = a.matmul(b).toArray().flat();
          const threads = d.getNumThreads();
          d.setBackend("js");
          const want = a.matmul(b).toArray().flat();
          return { threads, diff: Math.max(...got.map((g, i) => Math.abs(g - want[i]))) };
        })()`,
      );
      assert.ok(
        diff.threads > 1 && pool.length === before + diff.threads - 1,
        JSON.stringify({ ...diff, before, pool }),
      );
      assert.ok(diff.diff < 1e-3, `the main thread's threaded product differs from js by ${diff.diff}`);
      const jobs = await poolJobs(browser, pool.slice(before));
      t.diagnostic(
        `the page's own thread: ${diff.threads} threads, ${jobs} products with workers, max diff ${diff.diff}`,
      );
      assert.ok(jobs > 0, "the page's pool workers ran the product");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      for (const s of servers) await s.close();
      rmSync(tmp, { recursive: true, force: true });
    }
  },
);
