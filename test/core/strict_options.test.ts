// Issue 17, item 4: every options object of the public API is checked at run time. One line per
// constructor or function, called from "plain JavaScript" with a typo'd key: each must throw a
// DescentError naming the key, the owner and the valid key it was near. Before the checks, every
// one of these calls ignored the typo (or failed later with an unrelated message).

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as descent from "../../src/index.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- the point is calls TypeScript would refuse */
const d = descent as any;
const { nn, optim, data, onnx, distributed, train } = d;
const F = nn.functional;
const S = optim.lrScheduler;
const x4 = d.zeros([1, 1, 4, 4]);
const v3 = d.zeros([1, 2, 4]);
const ids = d.tensor([0, 1], { dtype: "int32" });
const lin = () => new nn.Linear(2, 2);
const sgd = () => new optim.SGD(lin().parameters(), { lr: 0.1 });
const ds = () => new data.TensorDataset(d.zeros([4, 2]), d.zeros([4]));
const gptConfig = { vocabSize: 8, contextLength: 4, dModel: 4, nHeads: 1, nLayers: 1 };
const fitOpts = () => ({ train: [], loss: new nn.MSELoss(), optimizer: sgd(), epochs: 1 });
const encLayer = () => new nn.TransformerEncoderLayer(4, 2, { dimFeedforward: 8 });
const decLayer = () => new nn.TransformerDecoderLayer(4, 2, { dimFeedforward: 8 });

/** [owner as the message names it, the call, the typo'd key, the key it should suggest]. */
const CASES: [string, () => unknown, string, string][] = [
  // tensor creation and Tensor methods
  ["zeros", () => d.zeros([2], { dtyp: "float64" }), "dtyp", "dtype"],
  ["tensor", () => d.tensor([1, 2], { requiresgrad: true }), "requiresgrad", "requiresGrad"],
  ["randn", () => d.randn([2], { generater: new d.Generator(1) }), "generater", "generator"],
  ["eye", () => d.eye(2, { M: 3 }), "M", "m"],
  ["sort", () => d.zeros([3]).sort({ descendng: true }), "descendng", "descending"],
  ["argsort", () => d.zeros([3]).argsort({ dimm: 0 }), "dimm", "dim"],
  ["topk", () => d.zeros([3]).topk(1, { largets: false }), "largets", "largest"],
  ["var", () => d.zeros([3]).var(0, { keepdim: true }), "keepdim", "keepDim"],
  ["std", () => d.zeros([3]).std(0, { unbaised: false }), "unbaised", "unbiased"],
  ["multinomial", () => d.multinomial(d.tensor([0.5, 0.5]), 1, { replace: true }), "replace", "replacement"],
  [
    "baddbmm",
    () => d.baddbmm(d.zeros([1, 2, 2]), d.zeros([1, 2, 2]), d.zeros([1, 2, 2]), { betta: 0 }),
    "betta",
    "beta",
  ],
  [
    "backward",
    () => d.ones([1], { requiresGrad: true }).sum().backward(undefined, { retain_graph: true }),
    "retain_graph",
    "retainGraph",
  ],
  // nn layers
  ["Linear", () => new nn.Linear(2, 3, { biass: false }), "biass", "bias"],
  ["Conv2d", () => new nn.Conv2d(3, 8, 3, { paddng: 1 }), "paddng", "padding"],
  ["Conv1d", () => new nn.Conv1d(3, 8, 3, { dilaton: 2 }), "dilaton", "dilation"],
  ["ConvTranspose2d", () => new nn.ConvTranspose2d(3, 8, 3, { output_padding: 1 }), "output_padding", "outputPadding"],
  ["ConvTranspose1d", () => new nn.ConvTranspose1d(3, 8, 3, { strides: 2 }), "strides", "stride"],
  ["MaxPool2d", () => new nn.MaxPool2d(2, { ceil_mode: true }), "ceil_mode", "ceilMode"],
  ["AvgPool2d", () => new nn.AvgPool2d(2, { countIncludePadding: false }), "countIncludePadding", "countIncludePad"],
  ["BatchNorm2d", () => new nn.BatchNorm2d(3, { momentun: 0.2 }), "momentun", "momentum"],
  [
    "BatchNorm1d",
    () => new nn.BatchNorm1d(3, { track_running_stats: false }),
    "track_running_stats",
    "trackRunningStats",
  ],
  ["LayerNorm", () => new nn.LayerNorm(4, { elementwise_affine: false }), "elementwise_affine", "elementwiseAffine"],
  ["GroupNorm", () => new nn.GroupNorm(1, 4, { afine: false }), "afine", "affine"],
  ["InstanceNorm2d", () => new nn.InstanceNorm2d(4, { esp: 1e-3 }), "esp", "eps"],
  ["Dropout", () => new nn.Dropout({ P: 0.2 }), "P", "p"],
  ["Dropout2d", () => new nn.Dropout2d({ pp: 0.2 }), "pp", "p"],
  ["Embedding", () => new nn.Embedding(5, 3, { padding_idx: 0 }), "padding_idx", "paddingIdx"],
  ["Embedding.fromPretrained", () => nn.Embedding.fromPretrained(d.zeros([3, 2]), { freze: false }), "freze", "freeze"],
  ["LSTM", () => new nn.LSTM(2, 3, { batch_first: true }), "batch_first", "batchFirst"],
  ["GRU", () => new nn.GRU(2, 3, { bidirectonal: true }), "bidirectonal", "bidirectional"],
  ["RNN", () => new nn.RNN(2, 3, { nonLinearity: "relu" }), "nonLinearity", "nonlinearity"],
  ["MultiheadAttention", () => new nn.MultiheadAttention(4, 2, { batchFist: true }), "batchFist", "batchFirst"],
  [
    "MultiheadAttention.forward",
    () => new nn.MultiheadAttention(4, 2).forward(v3, v3, v3, { needWeight: false }),
    "needWeight",
    "needWeights",
  ],
  [
    "TransformerEncoderLayer",
    () => new nn.TransformerEncoderLayer(4, 2, { dimFeedForward: 8 }),
    "dimFeedForward",
    "dimFeedforward",
  ],
  [
    "TransformerDecoderLayer",
    () => new nn.TransformerDecoderLayer(4, 2, { norm_first: true }),
    "norm_first",
    "normFirst",
  ],
  ["TransformerEncoderLayer.forward", () => encLayer().forward(v3, { srcMsk: null }), "srcMsk", "srcMask"],
  [
    "TransformerDecoderLayer.forward",
    () => decLayer().forward(v3, v3, { tgtIsCasual: true }),
    "tgtIsCasual",
    "tgtIsCausal",
  ],
  ["TransformerEncoder", () => new nn.TransformerEncoder(encLayer(), 1, { nrom: null }), "nrom", "norm"],
  [
    "TransformerEncoder.forward",
    () => new nn.TransformerEncoder(encLayer(), 1).forward(v3, { maks: null }),
    "maks",
    "mask",
  ],
  [
    "TransformerDecoder.forward",
    () => new nn.TransformerDecoder(decLayer(), 1).forward(v3, v3, { tgtMsk: null }),
    "tgtMsk",
    "tgtMask",
  ],
  ["Upsample", () => new nn.Upsample({ scale_factor: 2 }), "scale_factor", "scaleFactor"],
  ["LeakyReLU", () => new nn.LeakyReLU({ negative_slope: 0.2 }), "negative_slope", "negativeSlope"],
  ["ELU", () => new nn.ELU({ alpah: 1 }), "alpah", "alpha"],
  ["GELU", () => new nn.GELU({ approximation: "tanh" }), "approximation", "approximate"],
  ["PReLU", () => new nn.PReLU(1, 0.25, { dtpye: "float64" }), "dtpye", "dtype"],
  ["Flatten", () => new nn.Flatten({ startdim: 0 }), "startdim", "startDim"],
  ["GPT", () => new nn.GPT({ ...gptConfig, nLayer: 1 }), "nLayer", "nLayers"],
  ["GPT.generate", () => new nn.GPT(gptConfig).generate([1], { maxNewToken: 2 }), "maxNewToken", "maxNewTokens"],
  // losses, as modules and as functions
  ["CrossEntropyLoss", () => new nn.CrossEntropyLoss({ label_smoothing: 0.1 }), "label_smoothing", "labelSmoothing"],
  ["MSELoss", () => new nn.MSELoss({ reducton: "sum" }), "reducton", "reduction"],
  ["BCEWithLogitsLoss", () => new nn.BCEWithLogitsLoss({ pos_weight: null }), "pos_weight", "posWeight"],
  ["HuberLoss", () => new nn.HuberLoss({ delt: 2 }), "delt", "delta"],
  ["KLDivLoss", () => new nn.KLDivLoss({ log_target: true }), "log_target", "logTarget"],
  ["CTCLoss", () => new nn.CTCLoss({ zero_infinity: true }), "zero_infinity", "zeroInfinity"],
  ["crossEntropy", () => F.crossEntropy(d.zeros([2, 3]), ids, { ignore_index: 0 }), "ignore_index", "ignoreIndex"],
  ["nllLoss", () => F.nllLoss(d.zeros([2, 3]), ids, { wieght: null }), "wieght", "weight"],
  ["mseLoss", () => F.mseLoss(d.zeros([2]), d.zeros([2]), { reductions: "sum" }), "reductions", "reduction"],
  ["smoothL1Loss", () => F.smoothL1Loss(d.zeros([2]), d.zeros([2]), { bta: 1 }), "bta", "beta"],
  ["multiMarginLoss", () => F.multiMarginLoss(d.zeros([2, 3]), ids, { margn: 1 }), "margn", "margin"],
  // nn.functional
  ["conv2d", () => F.conv2d(x4, d.zeros([1, 1, 3, 3]), null, { group: 1 }), "group", "groups"],
  ["conv1d", () => F.conv1d(v3, d.zeros([1, 2, 3]), null, { padding_: 1 }), "padding_", "padding"],
  [
    "convTranspose2d",
    () => F.convTranspose2d(x4, d.zeros([1, 1, 3, 3]), null, { outputsize: null }),
    "outputsize",
    "outputSize",
  ],
  ["maxPool2d", () => F.maxPool2d(x4, 2, { ceilmode: true }), "ceilmode", "ceilMode"],
  ["avgPool2d", () => F.avgPool2d(x4, 2, { divisor_override: 2 }), "divisor_override", "divisorOverride"],
  ["unfold", () => F.unfold(x4, 2, { strid: 1 }), "strid", "stride"],
  ["pad", () => F.pad(x4, [1, 1], { vaule: 1 }), "vaule", "value"],
  ["interpolate", () => F.interpolate(x4, { align_corners: true }), "align_corners", "alignCorners"],
  [
    "scaledDotProductAttention",
    () => F.scaledDotProductAttention(v3, v3, v3, { is_causal: true }),
    "is_causal",
    "isCausal",
  ],
  ["gelu", () => F.gelu(x4, { approximat: "tanh" }), "approximat", "approximate"],
  [
    "kaimingUniform_",
    () => nn.init.kaimingUniform_(d.zeros([2, 2]), { nonlinearty: "relu" }),
    "nonlinearty",
    "nonlinearity",
  ],
  [
    "clipGradNorm_",
    () => nn.utils.clipGradNorm_(lin().parameters(), 1, 2, { error_if_nonfinite: true }),
    "error_if_nonfinite",
    "errorIfNonfinite",
  ],
  ["loadStateDict", () => lin().loadStateDict(lin().stateDict(), { strictt: false }), "strictt", "strict"],
  ["countParameters", () => d.countParameters(lin(), { trainable_only: true }), "trainable_only", "trainableOnly"],
  // optimizers, parameter groups and schedules
  ["SGD", () => new optim.SGD(lin().parameters(), { lr: 0.1, momentun: 0.9 }), "momentun", "momentum"],
  ["Adam", () => new optim.Adam(lin().parameters(), { weight_decay: 0.1 }), "weight_decay", "weightDecay"],
  ["AdamW", () => new optim.AdamW(lin().parameters(), { bettas: [0.9, 0.99] }), "bettas", "betas"],
  ["RMSprop", () => new optim.RMSprop(lin().parameters(), { centred: true }), "centred", "centered"],
  ["Adagrad", () => new optim.Adagrad(lin().parameters(), { lr_decay: 0.1 }), "lr_decay", "lrDecay"],
  ["SGD: parameter group 0", () => new optim.SGD([{ params: lin().parameters(), LR: 0.1 }], { lr: 0.1 }), "LR", "lr"],
  ["StepLR", () => new S.StepLR(sgd(), 2, { gama: 0.5 }), "gama", "gamma"],
  ["CosineAnnealingLR", () => new S.CosineAnnealingLR(sgd(), 3, { eta_min: 0 }), "eta_min", "etaMin"],
  ["LinearLR", () => new S.LinearLR(sgd(), { totalIter: 3 }), "totalIter", "totalIters"],
  ["OneCycleLR", () => new S.OneCycleLR(sgd(), 0.1, { totalSteps: 10, pct_start: 0.2 }), "pct_start", "pctStart"],
  ["ReduceLROnPlateau", () => new S.ReduceLROnPlateau(sgd(), { patiance: 2 }), "patiance", "patience"],
  // data
  ["DataLoader", () => new data.DataLoader(ds(), { batch_size: 4 }), "batch_size", "batchSize"],
  [
    "DistributedSampler",
    () => new data.DistributedSampler(ds(), { numReplicas: 1, rank: 0, shufle: false }),
    "shufle",
    "shuffle",
  ],
  ["readCsv", () => data.readCsv("/nonexistent.csv", { delimeter: ";" }), "delimeter", "delimiter"],
  ["readIdx", () => data.readIdx("/nonexistent.idx", { max_bytes: 1 }), "max_bytes", "maxBytes"],
  ["readTextSplit", () => data.readTextSplit("/nonexistent", { valevery: 3 }), "valevery", "valEvery"],
  // training
  ["fit", () => d.fit(lin(), { ...fitOpts(), epoch: 2 }), "epoch", "epochs"],
  [
    "fit: earlyStopping",
    () => d.fit(lin(), { ...fitOpts(), earlyStopping: { patience: 1, min_delta: 0 } }),
    "min_delta",
    "minDelta",
  ],
  [
    "fit: checkpoint",
    () => d.fit(lin(), { ...fitOpts(), checkpoint: { dir: "/nonexistent", keep_best: true } }),
    "keep_best",
    "keepBest",
  ],
  ["fit: clipGradNorm", () => d.fit(lin(), { ...fitOpts(), clipGradNorm: { max_norm: 1 } }), "max_norm", "maxNorm"],
  ["evaluate", () => d.evaluate(lin(), [], { metric: ["loss"] }), "metric", "metrics"],
  ["predict", () => d.predict(lin(), d.zeros([2, 2]), { batch_size: 1 }), "batch_size", "batchSize"],
  ["GradientMonitor", () => new train.GradientMonitor(lin(), { windw: 3 }), "windw", "window"],
  [
    "GradientMonitor: thresholds",
    () => new train.GradientMonitor(lin(), { thresholds: { deadFracton: 0.5 } }),
    "deadFracton",
    "deadFraction",
  ],
  ["renderReport", () => train.renderReport({ titel: "x" }), "titel", "title"],
  ["createLogger", () => train.createLogger("json", process.stdout, { log_every: 1 }), "log_every", "logEvery"],
  [
    "trainLanguageModel",
    () => train.trainLanguageModel(new nn.GPT(gptConfig), { steps: 3, lr: 1e-3, nextBatch: () => null, warmup: 2 }),
    "warmup",
    "warmupSteps",
  ],
  // io, onnx, distributed
  ["saveCheckpoint", () => d.saveCheckpoint("/nonexistent/x", { model: lin(), epcoh: 1 }), "epcoh", "epoch"],
  [
    "loadCheckpoint",
    () => d.loadCheckpoint("/nonexistent/x", { model: lin(), optimiser: sgd() }),
    "optimiser",
    "optimizer",
  ],
  ["load", () => d.load("/nonexistent/x", { maxTensor: 3 }), "maxTensor", "maxTensors"],
  ["onnx.export", () => onnx.exportBytes(lin(), d.zeros([1, 2]), { inputName: ["x"] }), "inputName", "inputNames"],
  [
    "DistributedDataParallel",
    () => new distributed.DistributedDataParallel(lin(), { bucketCap: 25 }),
    "bucketCap",
    "bucketCapMb",
  ],
];
/* eslint-enable @typescript-eslint/no-explicit-any */

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("issue 17: a typo'd option throws a DescentError naming it, its owner and the nearest key", () => {
  for (const [owner, call, bad, near] of CASES) {
    test(`${owner}: ${bad}`, () => {
      const want = new RegExp(`unknown option '${escape(bad)}' for ${escape(owner)}[^;]*; did you mean '${near}'\\?`);
      assert.throws(call, (e: unknown) => {
        assert.ok(e instanceof descent.DescentError, `expected a DescentError, got ${String(e)}`);
        assert.match(e.message, want);
        return true;
      });
    });
  }
});

describe("issue 17: options that are not an object", () => {
  const cases: [string, () => unknown][] = [
    ["Conv2d", () => new nn.Conv2d(3, 8, 3, [1])],
    ["SGD", () => new d.optim.SGD(lin().parameters(), 0.1 as never)],
    ["DataLoader", () => new data.DataLoader(ds(), 4)],
    ["sort", () => d.zeros([3]).sort(-1 as never)],
    ["mseLoss", () => F.mseLoss(d.zeros([2]), d.zeros([2]), "sum")],
  ];
  for (const [owner, call] of cases) {
    test(owner, () => assert.throws(call, new RegExp(`^DescentError: ${owner}: options must be an object, got`)));
  }
});

describe("issue 17: internal callers that pass options on still work", () => {
  test("TransformerEncoder.forward's mask reaches the layers as srcMask", () => {
    const enc = new nn.TransformerEncoder(encLayer(), 2);
    enc.eval();
    const mask = d.tensor(
      [
        [0, 1, 1, 1],
        [0, 0, 1, 1],
        [0, 0, 0, 1],
        [0, 0, 0, 0],
      ],
      { dtype: "int32" },
    );
    const x = d.randn([4, 1, 4], { generator: new d.Generator(3) });
    const viaMask = enc.forward(x, { mask }).toFlatArray();
    const viaSrcMask = enc.forward(x, { srcMask: mask }).toFlatArray();
    const unmasked = enc.forward(x).toFlatArray();
    assert.deepEqual([...viaMask], [...viaSrcMask]);
    assert.notDeepEqual([...viaMask], [...unmasked]);
  });
});
