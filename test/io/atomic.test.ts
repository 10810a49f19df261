// The atomic writer (src/io/atomic.ts) under kills: temporary files left by killed writers are
// removed by the next write to the same target (and only those), and a writer SIGKILLed mid-save
// never costs the previous file. The kill test's size and count are settable for a full-size run
// by hand: DESCENT_KILL_MB (default 4) megabytes per save, DESCENT_KILL_COUNT (default 4) kills.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

import { tensor } from "../../src/index.js";
import { save, loadFile } from "../../src/io/safetensors.js";
import { removeStaleTemps } from "../../src/io/atomic.js";
import { writeReport } from "../../src/train/report.js";

const dir = mkdtempSync(join(tmpdir(), "descent-atomic-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const TSX = import.meta.resolve("tsx");

/** A pid that belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", ""]);
  return r.pid!;
}

test("a save removes the temp files killed writers left for its target, and nothing else", () => {
  const sub = mkdtempSync(join(dir, "stale-"));
  const target = join(sub, "m.safetensors");
  const dead = deadPid();
  const old = new Date("2001-01-01T00:00:00Z");
  const files = {
    deadWriter: `.m.safetensors.${dead}.k3j9x.tmp`,
    // A live pid whose file is older than this process: the pid was reused, the writer is gone.
    reusedPid: `.m.safetensors.${process.pid}.aa11.tmp`,
    // A live writer (this process) with a fresh file: still being written, kept.
    liveWriter: `.m.safetensors.${process.pid}.bb22.tmp`,
    otherTarget: `.n.safetensors.${dead}.k3j9x.tmp`,
    upperCase: `.m.safetensors.${dead}.K3J9X.tmp`,
    suffix: `.m.safetensors.${dead}.k3j9x.tmp.keep`,
    noDot: `m.safetensors.${dead}.k3j9x.tmp`,
  };
  for (const f of Object.values(files)) writeFileSync(join(sub, f), "partial");
  utimesSync(join(sub, files.reusedPid), old, old);
  utimesSync(join(sub, files.deadWriter), old, old);
  // A directory with a matching name is not a temp file of ours.
  mkdirSync(join(sub, `.m.safetensors.${dead}.dir1.tmp`));
  save({ w: tensor([1, 2]) }, target);
  const left = new Set(readdirSync(sub));
  assert.ok(!left.has(files.deadWriter), "a dead writer's temp file is removed");
  assert.ok(!left.has(files.reusedPid), "a temp file older than this process is removed");
  for (const k of ["liveWriter", "otherTarget", "upperCase", "suffix", "noDot"] as const)
    assert.ok(left.has(files[k]), `${k} is kept`);
  assert.ok(left.has(`.m.safetensors.${dead}.dir1.tmp`));
  assert.equal(removeStaleTemps(target), 0);
  // The report writer goes through the same writer (it used to leave `report.html.tmp-<pid>-<time>`).
  writeFileSync(join(sub, `.report.html.${dead}.zz9.tmp`), "partial");
  writeReport(join(sub, "report.html"), { history: { loss: [1], epochs: [] } as never });
  assert.ok(!readdirSync(sub).some((f) => f.startsWith(".report.html")));
});

interface KillResult {
  kills: number;
  midSave: number;
  lost: number;
  strayAfterNextSave: number;
  notes: string[];
}

/** Starts the saving child and resolves once its first save is on disk. */
function startChild(path: string, mb: number, start: number) {
  const child = spawn(
    process.execPath,
    ["--import", TSX, resolve(import.meta.dirname, "children/save_loop.ts"), path, String(mb), String(start)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const exited = new Promise<void>((res) => child.on("exit", () => res()));
  const ready = new Promise<void>((res, rej) => {
    child.stdout!.on("data", (d: Buffer) => d.toString().includes("ready") && res());
    child.on("exit", (code) => rej(new Error(`the saving child exited early (${code})`)));
  });
  return { child, ready, exited };
}

export async function killDuringSaves(folder: string, mb: number, count: number): Promise<KillResult> {
  const path = join(folder, "w.safetensors");
  const r: KillResult = { kills: 0, midSave: 0, lost: 0, strayAfterNextSave: 0, notes: [] };
  let last = -1;
  const temps = () => readdirSync(folder).filter((f) => f.endsWith(".tmp"));
  for (let k = 0; k < count; k++) {
    const { child, ready, exited } = startChild(path, mb, last + 1);
    await ready;
    // A random moment, then the first moment a save is under way (its temp file exists), so that
    // nearly every kill lands mid-save.
    await new Promise((res) => setTimeout(res, Math.random() * (20 + mb * 8)));
    const until = Date.now() + 20_000;
    while (!temps().length && Date.now() < until) await new Promise((res) => setTimeout(res, 1));
    process.kill(child.pid!, "SIGKILL");
    await exited;
    r.kills++;
    if (temps().length) r.midSave++;
    try {
      const { tensors, metadata } = loadFile(path);
      const i = Number(metadata.i);
      const w = tensors.w!.toFlatArray();
      if (!(i > last) || w.length !== Math.floor((mb * 1024 * 1024) / 4) || w[0] !== i || w[w.length - 1] !== i) {
        r.lost++;
        r.notes.push(`kill ${k}: file ${i} (previous ${last}) holds ${w.length} values ${w[0]}..${w[w.length - 1]}`);
      }
      last = i;
    } catch (e) {
      r.lost++;
      r.notes.push(`kill ${k}: ${(e as Error).message}`);
    }
    save({ w: tensor([0]) }, join(folder, "other.safetensors"));
    // The next save to the same target removes what the killed writer left (a small one: the
    // next child's first save writes the full size again before it can be killed).
    save({ w: tensor([last]) }, path, { i: String(last) });
    r.strayAfterNextSave += temps().length;
  }
  return r;
}

test("SIGKILL during saves: the previous file always loads intact, the next save leaves no temp file", async () => {
  const mb = Number(process.env.DESCENT_KILL_MB ?? 4);
  const count = Number(process.env.DESCENT_KILL_COUNT ?? 4);
  const folder = mkdtempSync(join(process.env.DESCENT_KILL_DIR ?? dir, "kill-"));
  const r = await killDuringSaves(folder, mb, count);
  // A full-size run by hand prints its counts (test output, not a log of the library).
  if (process.env.DESCENT_KILL_COUNT) process.stdout.write(`# kill test: ${mb} MB saves: ${JSON.stringify(r)}\n`);
  assert.equal(r.kills, count);
  assert.ok(r.midSave > 0, "no kill landed mid-save; the test proved nothing");
  assert.equal(r.lost, 0, `files lost: ${r.notes.join("; ")}`);
  assert.equal(r.strayAfterNextSave, 0, "temp files left after the next save");
  assert.ok(existsSync(join(folder, "w.safetensors")));
  rmSync(folder, { recursive: true, force: true });
});
