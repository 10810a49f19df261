// The demo's training worker (a module worker, so the page stays responsive): fetches the digits,
// trains the MLP of digits.js and posts its loss every 10 steps, and the test accuracy and weights
// (safetensors bytes, transferred) after each epoch.
/* global self, fetch */
import * as d from "./descent.browser.js";
import { parseDigits, train } from "./digits.js";

// The backend the worker trains on: WebAssembly (initWasm compiles descent.wasm, served next to the
// page; the package ships it as descent-nn/descent.wasm; on a cross-origin-isolated page it takes
// descent-mt.wasm from beside it instead, and runs large products on Web Workers). "js" runs the
// same code without it.
const BACKEND = "wasm";

async function useBackend(name) {
  if (name === "wasm") await d.initWasm(new URL("./descent.wasm", import.meta.url));
  d.setBackend(name);
}

self.onmessage = async (e) => {
  if (e.data?.type !== "train") return;
  try {
    await useBackend(BACKEND);
    const bytes = new Uint8Array(await (await fetch("./digits.bin")).arrayBuffer());
    const data = parseDigits(d, bytes);
    self.postMessage({ type: "start", backend: BACKEND, threads: d.getNumThreads(), digits: data.n });
    let model = null;
    const report = (ev) => {
      if (ev.type === "epoch" && model) {
        const weights = d.saveToBytes(model.stateDict());
        self.postMessage({ ...ev, weights }, [weights.buffer]);
      } else self.postMessage(ev);
    };
    // train() builds the model; the first epoch's report needs it, so it is handed over early.
    await train(d, data, { ...e.data.options, report, onModel: (m) => (model = m) });
    self.postMessage({ type: "done" });
  } catch (err) {
    self.postMessage({ type: "error", message: String(err?.stack ?? err) });
  }
};
