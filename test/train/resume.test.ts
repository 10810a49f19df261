// Mid-epoch checkpoints (fit's checkpointEvery) resume bit-exactly: a run interrupted after a
// random step and continued from its last.safetensors in freshly built objects ends with the same
// weights and buffers (toFlatArray equality) and the same epoch logs as the uninterrupted run, on
// whichever backend DESCENT_BACKEND selects. Also the DataLoader's state on its own, the refusals,
// and a true kill: a child process SIGKILLed at a random moment and resumed in another child.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

import { defaultGenerator, manualSeed, randn, tensor, DescentError, type Tensor } from "../../src/index.js";
import { DataLoader, TensorDataset } from "../../src/data/index.js";
import { fit } from "../../src/train/fit.js";
import type { EpochLog } from "../../src/train/progress.js";
import { buildRun, weightsOf, type Variant } from "./children/resume_setup.js";

const dir = mkdtempSync(join(tmpdir(), "descent-resume-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const EPOCHS = 4;

class Interrupted extends Error {}

/** Epoch logs without the timing. */
const logs = (h: { epochs: EpochLog[] }) => h.epochs.map(({ seconds: _s, ...rest }) => rest);

for (const variant of ["adam-onecycle", "sgd-plateau"] as Variant[]) {
  test(`${variant}: interrupted after a random step and resumed from last.safetensors, bit-identical`, () => {
    const ref = buildRun(variant);
    const full = fit(ref.model, { ...ref.opts, epochs: EPOCHS });
    const want = weightsOf(ref.model);
    const steps = full.steps;
    assert.ok(steps >= 10, `the run takes ${steps} steps`);
    for (const k of [1 + Math.floor(Math.random() * (steps - 1)), 1 + Math.floor(Math.random() * (steps - 1))]) {
      const ck = mkdtempSync(join(dir, `${variant}-`));
      const run = buildRun(variant);
      // The loss throws at the training call after step k, once step k's checkpoint is written.
      let calls = 0;
      const inner = run.opts.loss as { forward(o: Tensor, t: Tensor): Tensor };
      const loss = (o: Tensor, t: Tensor) => {
        if (o.requiresGrad && ++calls > k) throw new Interrupted(`interrupted after step ${k}`);
        return inner.forward(o, t);
      };
      const checkpoint = { dir: ck, keepBest: false };
      assert.throws(
        () => fit(run.model, { ...run.opts, loss, epochs: EPOCHS, checkpoint, checkpointEvery: { steps: 1 } }),
        Interrupted,
      );
      // Everything fresh, and the generator moved elsewhere, as in a new process.
      const again = buildRun(variant);
      manualSeed(12345);
      randn([17]);
      const resumed = fit(again.model, {
        ...again.opts,
        epochs: EPOCHS,
        checkpoint,
        checkpointEvery: { steps: 1 },
        resumeFrom: join(ck, "last.safetensors"),
      });
      assert.deepEqual(weightsOf(again.model), want, `weights after resuming from step ${k} of ${steps}`);
      const fromEpoch = resumed.epochs[0]?.epoch ?? EPOCHS + 1;
      assert.deepEqual(logs(resumed), logs(full).slice(fromEpoch - 1), `epoch logs after resuming from step ${k}`);
      assert.equal(resumed.steps, steps - k, "the resumed run takes the remaining steps");
    }
  });
}

test("DataLoader state: the next iteration continues the interrupted one without drawing again", () => {
  manualSeed(3);
  const ds = new TensorDataset(
    tensor(
      Float32Array.from({ length: 11 }, (_, i) => i),
      { shape: [11] },
    ),
  );
  const a = new DataLoader(ds, { batchSize: 3, shuffle: true });
  const it = a[Symbol.iterator]();
  it.next();
  it.next();
  const st = a.stateDict();
  assert.equal(st.position, 2);
  const rest: number[][] = [];
  for (let r = it.next(); !r.done; r = it.next()) rest.push(Array.from(r.value[0]!.toFlatArray()));
  assert.equal(a.stateDict().started, false, "an iteration that has ended leaves nothing to resume");
  const after = defaultGenerator.getState();
  const b = new DataLoader(ds, { batchSize: 3, shuffle: true });
  b.loadStateDict(JSON.parse(JSON.stringify(st)));
  assert.deepEqual(
    [...b].map((x) => Array.from(x[0]!.toFlatArray())),
    rest,
  );
  assert.deepEqual(defaultGenerator.getState(), after, "the resumed iteration draws nothing");
  assert.equal([...b].length, 4, "and the one after it is a whole new epoch");
  const wrong = new DataLoader(ds, { batchSize: 2, shuffle: true });
  assert.throws(
    () => wrong.loadStateDict(st),
    /DataLoader\.loadStateDict: the state is of a loader over 11 examples in batches of 3/,
  );
  assert.throws(() => b.loadStateDict({ ...st, position: 5 }), /position must be an integer from 0 to 4, got 5/);
  assert.throws(() => b.loadStateDict({ ...st, orderRng: { s: [0, 0, 0, 0], spare: null } }), DescentError);
});

test("checkpointEvery and resumeFrom refusals", () => {
  const run = buildRun("adam-onecycle");
  assert.throws(
    () => fit(run.model, { ...run.opts, epochs: 1, checkpointEvery: { steps: 2 } }),
    /checkpointEvery needs opts\.checkpoint/,
  );
  const ck = { dir: mkdtempSync(join(dir, "ref-")) };
  assert.throws(
    () => fit(run.model, { ...run.opts, epochs: 1, checkpoint: ck, checkpointEvery: { steps: 0 } }),
    /checkpointEvery\.steps must be a positive integer, got 0/,
  );
  const batches = [[randn([2, 4]), tensor(Int32Array.from([0, 1]))]];
  assert.throws(
    () => fit(run.model, { ...run.opts, train: batches, epochs: 1, checkpoint: ck, checkpointEvery: { steps: 1 } }),
    /checkpointEvery needs opts\.train to be a DataLoader/,
  );
  assert.throws(
    () => fit(run.model, { ...run.opts, epochs: 1, resumeFrom: "x", initialEpoch: 2 }),
    /give resumeFrom or initialEpoch, not both/,
  );
});

const TSX = import.meta.resolve("tsx");
const CHILD = resolve(import.meta.dirname, "children/fit_child.ts");

function runChild(folder: string, args: string[]) {
  const child = spawn(process.execPath, ["--import", TSX, CHILD, folder, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
  return { child, exited, stderr: () => err };
}

test("SIGKILL at a random moment during training, resumed in another process: the same weights", async () => {
  const plain = mkdtempSync(join(dir, "plain-"));
  const killed = mkdtempSync(join(dir, "killed-"));
  const args = ["adam-onecycle", "3"];
  const ref = runChild(plain, args);
  const victim = runChild(killed, args);
  // Once training has started (the first checkpoint exists), wait a random moment, then kill.
  const last = join(killed, "checkpoints", "last.safetensors");
  while (!existsSync(last)) {
    if (victim.child.exitCode !== null) assert.fail(`the child exited early: ${victim.stderr()}`);
    await new Promise((res) => setTimeout(res, 5));
  }
  await new Promise((res) => setTimeout(res, Math.random() * 400));
  process.kill(victim.child.pid!, "SIGKILL");
  await victim.exited;
  assert.equal(existsSync(join(killed, "final.json")), false, "the kill came before the end of training");
  const resumed = runChild(killed, [...args, "resume"]);
  assert.equal(await resumed.exited, 0, resumed.stderr());
  assert.equal(await ref.exited, 0, ref.stderr());
  const a = JSON.parse(readFileSync(join(plain, "final.json"), "utf8")) as { weights: unknown };
  const b = JSON.parse(readFileSync(join(killed, "final.json"), "utf8")) as { weights: unknown };
  assert.deepEqual(b.weights, a.weights);
});
