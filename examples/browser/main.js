// The demo page: starts the training worker, draws its loss curve live, classifies what is drawn in
// the box with the latest weights (or with a model `descent train` saved, from the file input), and
// keeps its state in window.demo for test/browser/demo.test.ts.
/* global window, document, Worker, URLSearchParams, fetch */
import * as d from "./descent.browser.js";
import { PAGE_LAYERS, MEAN, STD, buildMlp, modelFromFile } from "./digits.js";

const $ = (id) => document.getElementById(id);
const state = {
  done: false,
  error: null,
  losses: [],
  epochs: [],
  accuracy: null,
  seconds: null,
  backend: null,
  threads: null,
};
const current = { model: null, preprocess: { scale: 1, mean: MEAN, std: STD } };
window.demo = { state, loadModel, predict };

// ---- training, in a worker ----
const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
const trained = buildMlp(d, PAGE_LAYERS);
trained.eval();
worker.onerror = (e) => fail(e.message ?? String(e));
worker.onmessage = ({ data: m }) => {
  if (m.type === "start") {
    state.backend = m.backend;
    state.threads = m.threads;
    const threads = m.threads === 1 ? "1 thread" : `${m.threads} threads`;
    $("status").textContent = `training on ${m.digits} digits (backend ${m.backend}, ${threads}, in a worker)…`;
  } else if (m.type === "loss") {
    state.losses.push([m.step, m.loss]);
    drawChart();
  } else if (m.type === "epoch") {
    state.epochs.push({ epoch: m.epoch, accuracy: m.accuracy, seconds: m.seconds });
    state.accuracy = m.accuracy;
    state.seconds = m.seconds;
    trained.loadStateDict(d.loadFromBytes(m.weights));
    if (!current.model || current.model === trained) current.model = trained;
    $("epochs").textContent = state.epochs
      .map((e) => `epoch ${e.epoch}: test accuracy ${(100 * e.accuracy).toFixed(2)}% at ${e.seconds.toFixed(1)} s`)
      .join("\n");
  } else if (m.type === "done") {
    state.done = true;
    $("status").textContent =
      `trained: ${(100 * state.accuracy).toFixed(2)}% on the held-out digits in ${state.seconds.toFixed(1)} s. Draw a digit!`;
  } else if (m.type === "error") fail(m.message);
};
// ?epochs=6 and the like override train()'s numeric options.
const options = Object.fromEntries([...new URLSearchParams(window.location.search)].map(([k, v]) => [k, Number(v)]));
worker.postMessage({ type: "train", options });

function fail(message) {
  state.error = message;
  $("status").textContent = `error: ${message}`;
  console.error(message);
}

// ---- the loss chart ----
function drawChart() {
  const c = $("chart");
  const g = c.getContext("2d");
  const pad = 40;
  g.clearRect(0, 0, c.width, c.height);
  g.strokeStyle = "#888";
  g.strokeRect(pad, 10, c.width - pad - 10, c.height - pad - 10);
  const pts = state.losses;
  if (pts.length < 2) return;
  const maxStep = pts[pts.length - 1][0];
  const maxLoss = Math.max(...pts.map((p) => p[1]));
  const x = (s) => pad + ((c.width - pad - 10) * s) / maxStep;
  const y = (l) => 10 + (c.height - pad - 10) * (1 - l / maxLoss);
  g.fillStyle = "#444";
  g.fillText(maxLoss.toFixed(2), 4, 16);
  g.fillText("0", 24, c.height - pad);
  g.fillText(`step ${maxStep}`, c.width - 70, c.height - pad + 16);
  g.strokeStyle = "#d33";
  g.lineWidth = 2;
  g.beginPath();
  pts.forEach(([s, l], i) => (i ? g.lineTo(x(s), y(l)) : g.moveTo(x(s), y(l))));
  g.stroke();
}

// ---- draw a digit ----
const padCanvas = $("pad");
const pen = padCanvas.getContext("2d");
pen.lineWidth = 20;
pen.lineCap = "round";
pen.strokeStyle = "#fff";
let drawing = false;
padCanvas.addEventListener("pointerdown", (e) => {
  drawing = true;
  pen.beginPath();
  pen.moveTo(e.offsetX, e.offsetY);
});
padCanvas.addEventListener("pointermove", (e) => {
  if (!drawing) return;
  pen.lineTo(e.offsetX, e.offsetY);
  pen.stroke();
});
padCanvas.addEventListener("pointerup", () => {
  drawing = false;
  showGuess(predict(pixels()));
});
$("clear").onclick = () => {
  pen.clearRect(0, 0, padCanvas.width, padCanvas.height);
  $("guess").textContent = "";
  $("probs").textContent = "";
};

/** The drawing as 784 values in [0, 1]: scaled down to 28x28 as MNIST's digits are. */
function pixels() {
  const small = document.createElement("canvas");
  small.width = small.height = 28;
  const g = small.getContext("2d");
  g.drawImage(padCanvas, 4, 4, 20, 20); // MNIST centres each digit in a 20x20 box
  const rgba = g.getImageData(0, 0, 28, 28).data;
  return Array.from({ length: 784 }, (_, i) => rgba[4 * i + 3] / 255);
}

/** The class probabilities of 784 pixels in [0, 1] under the current model. */
function predict(px) {
  if (!current.model) return null;
  const p = current.preprocess;
  const x = d.tensor([px]).div(p.scale).sub(p.mean).div(p.std);
  return d.noGrad(() => current.model.forward(x).softmax(1)).toArray()[0];
}

function showGuess(probs) {
  if (!probs) return;
  const best = probs.indexOf(Math.max(...probs));
  $("guess").textContent = String(best);
  $("probs").textContent = probs
    .map((q, i) => `${i} ${"█".repeat(Math.round(q * 30))} ${(100 * q).toFixed(1)}%`)
    .join("\n");
}

// ---- a model saved by `descent train` in Node ----
/** Loads a model.safetensors (a URL, a File, bytes) and classifies with it from now on. */
async function loadModel(src) {
  const file = await d.readSafetensorsBytes(typeof src === "string" ? fetch(src) : src);
  const got = modelFromFile(d, file);
  current.model = got.model;
  current.preprocess = got.preprocess;
  $("using").textContent =
    `model: ${typeof src === "string" ? src : (src.name ?? "loaded")} (${file.metadata["descent.config"] ? "saved by descent train" : "weights"})`;
  return Object.keys(file.tensors).length;
}
$("model").onchange = (e) => e.target.files[0] && loadModel(e.target.files[0]).catch((err) => fail(err.message));
