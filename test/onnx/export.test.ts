// onnx.export checked by an independent runtime: each layer family is exported from Descent, run in
// onnxruntime-node on a batch of another size (the batch dim is dynamic by default), and compared
// with Descent's own eval-mode forward; the file is also loaded back with onnx.load. Ops with no
// ONNX form are refused by name. When Python's onnx package is installed, onnx.checker validates the
// files (skipped with a printed reason otherwise).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";

import { nn, onnx, randn, randint, manualSeed, cat, noGrad, DescentError, type Tensor } from "../../src/index.js";
import { setOpTracer } from "../../src/tensor/apply.js";
import { assertAllclose } from "../helpers/allclose.js";

const TOL = { rtol: 1e-4, atol: 1e-5 };
const dir = mkdtempSync(join(tmpdir(), "descent-onnx-"));
const written: string[] = [];

function ortTensor(t: Tensor): ort.Tensor {
  const flat = t.contiguous().toFlatArray();
  return t.dtype === "int32"
    ? new ort.Tensor("int32", flat as Int32Array, [...t.shape])
    : new ort.Tensor("float32", flat as Float32Array, [...t.shape]);
}

/** Exports model traced on `trace`, runs it in onnxruntime on `run`, compares with Descent and onnx.load. */
async function check(name: string, model: nn.Module, trace: Tensor[], run: Tensor[], opts: onnx.ExportOptions = {}) {
  const path = join(dir, `${name}.onnx`);
  onnx.export(model, trace, path, opts);
  written.push(path);
  model.eval();
  const expected = model.forward(...(run as never[])) as Tensor;
  const session = await ort.InferenceSession.create(path);
  const feeds: Record<string, ort.Tensor> = {};
  session.inputNames.forEach((n, i) => (feeds[n] = ortTensor(run[i]!)));
  const got = (await session.run(feeds))[session.outputNames[0]!]!;
  assert.deepEqual([...got.dims], [...expected.shape], `${name}: onnxruntime's output shape`);
  assertAllclose(Array.from(got.data as Float32Array), Array.from(expected.toFlatArray()), {
    ...TOL,
    message: `${name} in onnxruntime`,
  });
  const back = onnx.load(path);
  const again = back.forward(...run) as Tensor;
  assertAllclose(Array.from(again.toFlatArray()), Array.from(expected.toFlatArray()), {
    ...TOL,
    message: `${name} reloaded`,
  });
}

test("Linear and the activations (Gemm, MatMul+Add, Relu, LeakyRelu, Elu, Erf-GELU, Sigmoid, Tanh, SiLU, softmaxes)", async () => {
  manualSeed(1);
  // One small model per activation, so a wrong attribute cannot hide behind later layers.
  const acts: [string, nn.Module][] = [
    ["relu", new nn.ReLU()],
    ["leakyrelu", new nn.LeakyReLU(0.2)],
    ["elu", new nn.ELU(0.7)],
    ["gelu", new nn.GELU()],
    ["gelu_tanh", new nn.GELU("tanh")],
    ["prelu1", new nn.PReLU()],
    ["sigmoid", new nn.Sigmoid()],
    ["tanh", new nn.Tanh()],
    ["silu", new nn.SiLU()],
    ["softmax", new nn.Softmax(-1)],
    ["logsoftmax", new nn.LogSoftmax(1)],
    ["dropout", new nn.Dropout(0.5)],
  ];
  for (const [name, act] of acts)
    await check(name, new nn.Sequential(new nn.Linear(6, 8), act), [randn([3, 6]).mul(2)], [randn([5, 6]).mul(2)]);
  const m = new nn.Sequential(new nn.Linear(6, 8), new nn.ReLU(), new nn.Linear(8, 4, { bias: false }));
  await check("mlp", m, [randn([3, 6])], [randn([5, 6])]);
  // 3-D input: Linear as MatMul + Add over the leading dims.
  await check(
    "linear3d",
    new nn.Sequential(new nn.Linear(6, 4), new nn.GELU()),
    [randn([2, 3, 6])],
    [randn([4, 3, 6])],
  );
});

test("Conv2d, BatchNorm2d, MaxPool2d, AvgPool2d, global AdaptiveAvgPool2d, Flatten", async () => {
  manualSeed(2);
  const bn = new nn.BatchNorm2d(4);
  const prelu = new nn.PReLU(4);
  noGrad(() => prelu.weight.copy_(randn([4]).mul(0.3))); // a different slope per channel
  const m = new nn.Sequential(
    new nn.Conv2d(3, 4, 3, { padding: 1 }),
    bn,
    prelu,
    new nn.MaxPool2d(2),
    new nn.Conv2d(4, 6, [3, 2], { padding: "same", groups: 2, bias: false }),
    new nn.Conv2d(6, 6, 3, { stride: [1, 2], padding: [1, 0] }),
    new nn.AvgPool2d(2, { padding: 1 }),
    new nn.Conv2d(6, 6, 3, { dilation: 2, padding: 2 }),
    new nn.AdaptiveAvgPool2d(1),
    new nn.Flatten(),
    new nn.Linear(6, 3),
  );
  // Running statistics away from 0 and 1, as after training.
  m.train();
  for (let i = 0; i < 3; i++) m.forward(randn([4, 3, 10, 10]).mul(2).add(1));
  await check("cnn", m, [randn([2, 3, 10, 10])], [randn([3, 3, 10, 10])]);
});

test("Conv1d, BatchNorm1d, LayerNorm, Embedding", async () => {
  manualSeed(3);
  const conv = new nn.Sequential(
    new nn.Conv1d(3, 5, 3, { stride: 2, padding: 1 }),
    new nn.BatchNorm1d(5),
    new nn.ReLU(),
  );
  conv.train();
  conv.forward(randn([4, 3, 9]).add(0.5));
  await check("conv1d", conv, [randn([2, 3, 9])], [randn([3, 3, 9])]);
  const ln = new nn.Sequential(new nn.Embedding(10, 6), new nn.LayerNorm(6), new nn.Linear(6, 2));
  await check("embedding_layernorm", ln, [randint(0, 10, [2, 4])], [randint(0, 10, [3, 4])]);
  const ln2 = new nn.LayerNorm([3, 4], { elementwiseAffine: false });
  await check("layernorm_2d", ln2, [randn([2, 3, 4])], [randn([5, 3, 4])]);
});

/** An LSTM classifier: the LSTM written as ONNX LSTM nodes, the rest traced. */
class LstmNet extends nn.Module {
  constructor(
    public lstm: nn.LSTM,
    public head = new nn.Linear(lstm.hiddenSize * (lstm.bidirectional ? 2 : 1), 3),
  ) {
    super();
  }
  forward(x: Tensor, h0?: Tensor, c0?: Tensor): Tensor {
    const [out, [h, c]] = this.lstm.forward(x, h0 && c0 ? [h0, c0] : null);
    const last = this.lstm.batchFirst ? out.select(1, -1) : out.select(0, -1);
    return this.head.forward(last).add(h.sum(0).sum(1, true)).add(c.mean(0).sum(1, true));
  }
}

test("LSTM: stacked, bidirectional, batchFirst or not, with and without initial states (gate order converted)", async () => {
  manualSeed(6);
  const bf = new LstmNet(new nn.LSTM(4, 5, { numLayers: 2, bidirectional: true, batchFirst: true }));
  await check("lstm_bf", bf, [randn([2, 6, 4])], [randn([3, 6, 4])]);
  const tm = new LstmNet(new nn.LSTM(4, 5, { bias: false }));
  // Time-major: dim 0 is the sequence, so the batch stays static here.
  const h0 = randn([1, 2, 5]);
  const c0 = randn([1, 2, 5]);
  await check("lstm_tm", tm, [randn([6, 2, 4]), h0, c0], [randn([6, 2, 4]), h0, c0], { dynamicAxes: {} });
});

class GruNet extends nn.Module {
  gru = new nn.GRU(4, 5, { numLayers: 2, bidirectional: true, batchFirst: true });
  forward(x: Tensor, h0: Tensor): Tensor {
    const [out, h] = this.gru.forward(x, h0);
    return out.sum(1).add(h.sum(0).sum(1, true));
  }
}

test("GRU: stacked, bidirectional, with an initial state (gates r,z,n -> z,r,h, linear_before_reset)", async () => {
  manualSeed(7);
  const h0 = randn([4, 3, 5]);
  await check("gru", new GruNet(), [randn([3, 6, 4]), h0], [randn([3, 6, 4]), h0], { dynamicAxes: {} });
});

class RnnNet extends nn.Module {
  constructor(public rnn: nn.RNN) {
    super();
  }
  forward(x: Tensor, h0: Tensor): Tensor {
    const [out, h] = this.rnn.forward(x, h0);
    return cat([out.flatten(), h.flatten()], 0); // every output and final-state value
  }
}

test("RNN: tanh and relu, stacked, bidirectional, batchFirst, with an initial state (ONNX RNN nodes)", async () => {
  manualSeed(8);
  const h0 = randn([4, 3, 5]);
  const relu = new RnnNet(
    new nn.RNN(4, 5, { numLayers: 2, bidirectional: true, batchFirst: true, nonlinearity: "relu" }),
  );
  await check("rnn_relu", relu, [randn([3, 6, 4]), h0], [randn([3, 6, 4]), h0], { dynamicAxes: {} });
  const h1 = randn([1, 6, 5]);
  const tanh = new RnnNet(new nn.RNN(4, 5, { bias: false }));
  await check("rnn_tanh", tanh, [randn([3, 6, 4]), h1], [randn([3, 6, 4]), h1], { dynamicAxes: {} });
});

/** A forward of plain tensor code: traced op by op. */
class Custom extends nn.Module {
  lin = new nn.Linear(4, 6);
  forward(x: Tensor, y: Tensor): Tensor {
    const h = this.lin.forward(x); // [B, 6]
    const r = h.reshape([h.shape[0]!, 2, 3]).permute([0, 2, 1]); // [B, 3, 2]
    const s = r.slice(1, 0, 2); // [B, 2, 2]
    const c = cat([s, y.reshape([y.shape[0]!, 2, 2])], 2); // [B, 2, 4]
    const e = c.exp().add(1).log().sub(c.abs().sqrt()).mul(c.sigmoid()).div(c.tanh().add(2));
    const m = e.maximum(c.neg()).pow(2);
    const red = m.sum(2, true).add(m.mean(2, true)).add(m.amax(2, true)).sub(m.amin(2, true)); // [B, 2, 1]
    return red.mul(0.5).relu().add(e.softmax(-1)).flatten(1);
  }
}

test("custom forwards: reshape, permute, slice, cat, element-wise ops, reductions, broadcasting", async () => {
  manualSeed(4);
  const opts = { inputNames: ["x", "y"], outputNames: ["out"] };
  await check("custom", new Custom(), [randn([2, 4]), randn([2, 4])], [randn([5, 4]), randn([5, 4])], opts);
  // A static graph when dynamicAxes says so: onnxruntime then refuses another batch size.
  const path = join(dir, "static.onnx");
  onnx.export(new Custom(), [randn([2, 4]), randn([2, 4])], path, { ...opts, dynamicAxes: {} });
  const s = await ort.InferenceSession.create(path);
  await assert.rejects(s.run({ x: ortTensor(randn([5, 4])), y: ortTensor(randn([5, 4])) }));
});

test("F.linear and F.layerNorm called in a forward (the fused ops: Gemm, LayerNormalization)", async () => {
  manualSeed(5);
  class Fn extends nn.Module {
    w = new nn.Parameter(randn([6, 4]));
    b = new nn.Parameter(randn([6]));
    g = new nn.Parameter(randn([6]));
    forward(x: Tensor): Tensor {
      const h = nn.functional.linear(x, this.w, this.b); // [B, 3, 6]
      const n = nn.functional.layerNorm(h, 6, this.g, null).add(nn.functional.layerNorm(h, [3, 6], null, null, 1e-3));
      return nn.functional.linear(n, this.w.slice(1, 0, 3).transpose(0, 1)); // [B, 3, 3], no bias
    }
  }
  await check("fused_fn", new Fn(), [randn([2, 3, 4])], [randn([5, 3, 4])]);
});

test("an op with no ONNX form is refused by name", () => {
  class Cumsum extends nn.Module {
    forward(x: Tensor): Tensor {
      return x.cumsum(1);
    }
  }
  assert.throws(
    () => onnx.export(new Cumsum(), randn([2, 3]), join(dir, "bad.onnx")),
    (e: unknown) => e instanceof DescentError && /onnx\.export: op \w+ .*has no ONNX form/.test(e.message),
  );
  assert.throws(
    () => onnx.export(new nn.Linear(2, 2), randn([2, 2]), join(dir, "x.onnx"), { opsetVersion: 13 }),
    /opsetVersion 13/,
  );
});

test("export leaves the model as it found it: training mode, forwards, forward hooks, no tracer left on", () => {
  const lin = new nn.Linear(2, 2);
  let hookCalls = 0;
  lin.registerForwardHook(() => void hookCalls++);
  const m = new nn.Sequential(lin, new nn.Dropout(0.5));
  m.train();
  const hooked = Object.getOwnPropertyDescriptor(lin, "forward");
  onnx.exportBytes(m, randn([1, 2]));
  assert.equal(m.training, true);
  assert.equal(Object.getOwnPropertyDescriptor(lin, "forward")?.value, hooked?.value);
  assert.ok(!Object.hasOwn(m.children()[1]!, "forward"));
  m.forward(randn([1, 2]));
  assert.equal(hookCalls, 2);
  class Bad extends nn.Module {
    forward(x: Tensor): Tensor {
      return x.cumsum(0);
    }
  }
  assert.throws(() => onnx.exportBytes(new Bad(), randn([2])), DescentError);
  assert.equal(setOpTracer(null), null, "a failed export removes its tracer");
});

test("onnx.checker accepts the exported files (when Python's onnx is installed)", (t) => {
  const script = "import onnx,sys\nfor p in sys.argv[1:]: onnx.checker.check_model(onnx.load(p), full_check=True)\n";
  const py = join(dir, "check.py");
  writeFileSync(py, script);
  try {
    execFileSync("/usr/bin/python3", ["-c", "import onnx"], { stdio: "ignore" });
  } catch {
    t.diagnostic("skipped: /usr/bin/python3 cannot import onnx (install the Debian package python3-onnx)");
    t.skip("python3-onnx not installed");
    return;
  }
  assert.ok(written.length >= 5);
  execFileSync("/usr/bin/python3", [py, ...written], { stdio: "pipe" });
});
