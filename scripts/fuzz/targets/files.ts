// Fuzz targets `safetensors` and `checkpoint`: valid files written by the library itself (save,
// saveCheckpoint of a small model + Adam + a schedule), then mutated with knowledge of the format:
// header JSON edits (dtype swaps, hostile shapes and offsets, duplicate keys, __metadata__ and the
// checkpoint's JSON-in-metadata, long strings, deep nesting), header-length edits, byte-level
// damage, truncation and splices of two files. Each input is loaded the way a user would.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  loadCheckpoint,
  loadFile,
  manualSeed,
  nn,
  optim,
  randn,
  saveCheckpoint,
  save,
  tensor,
  zeros,
} from "../../../src/index.js";
import { concat, mutateBytes, mutateJson, mutateJsonText, weirdBig, weirdJson, writeUint } from "../mutate.js";
import type { Rng } from "../rng.js";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const DTYPES = [
  "F64",
  "F32",
  "F16",
  "BF16",
  "I64",
  "U64",
  "I32",
  "U32",
  "I16",
  "U16",
  "I8",
  "U8",
  "BOOL",
  "F8",
  "C64",
  "",
];

/** The base files, made once per worker (the same bytes in every worker: seeded). */
let bases: Uint8Array[] | undefined;
let ckptBase: Uint8Array | undefined;

function makeModel(): {
  model: nn.Sequential;
  optimizer: optim.Optimizer;
  scheduler: optim.lrScheduler.StepLR;
} {
  const model = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.Linear(4, 2));
  const optimizer = new optim.Adam(model.parameters(), { lr: 0.01 });
  const scheduler = new optim.lrScheduler.StepLR(optimizer, 2, { gamma: 0.5 });
  return { model, optimizer, scheduler };
}

function safetensorsBases(dir: string): Uint8Array[] {
  if (bases) return bases;
  manualSeed(1);
  const path = join(dir, "base.safetensors");
  const made: Uint8Array[] = [];
  save(
    {
      w: randn([2, 3]),
      d: randn([4]).double(),
      i: tensor([
        [1, -2],
        [3, 2147483647],
      ]).int(),
      e: zeros([0, 3]),
      s: tensor(2.5),
    },
    path,
    { note: "hello", k: "v" },
  );
  made.push(new Uint8Array(readFileSync(path))); // a copy: Buffer.slice() would share its bytes
  save({ only: randn([5, 5]) }, path);
  made.push(new Uint8Array(readFileSync(path))); // a copy: Buffer.slice() would share its bytes
  return (bases = made);
}

function checkpointBase(dir: string): Uint8Array {
  if (ckptBase) return ckptBase;
  manualSeed(2);
  const { model, optimizer, scheduler } = makeModel();
  const x = randn([5, 3]);
  const loss = model.forward(x).square().mean();
  loss.backward();
  optimizer.step();
  scheduler.step();
  const path = join(dir, "base.ckpt.safetensors");
  saveCheckpoint(path, { model, optimizer, scheduler, epoch: 3, step: 7, extra: { best: Infinity, tag: "x" } });
  return (ckptBase = new Uint8Array(readFileSync(path)));
}

/** Splits a safetensors file into its header object and data section. */
function split(file: Uint8Array): { head: Record<string, Json>; data: Uint8Array } {
  const n = Number(new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true));
  const head = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n))) as Record<string, Json>;
  return { head, data: file.subarray(8 + n) };
}

function join8(headerText: string, data: Uint8Array, lengthField?: bigint): Uint8Array {
  const header = new TextEncoder().encode(headerText);
  const len = new Uint8Array(8);
  writeUint(len, 0, 8, lengthField ?? BigInt(header.length));
  return concat(len, header, data);
}

/** A targeted edit of one tensor entry: dtype swap, hostile shape, hostile or overlapping offsets. */
function editEntry(rng: Rng, head: Record<string, Json>): void {
  const names = Object.keys(head).filter((k) => k !== "__metadata__");
  if (names.length === 0) return;
  const name = rng.pick(names);
  // An earlier edit may have left a non-object here: start that entry afresh.
  if (head[name] === null || typeof head[name] !== "object" || Array.isArray(head[name])) head[name] = {};
  const e = head[name] as Record<string, Json>;
  const other = (head[rng.pick(names)] ?? {}) as Record<string, Json>;
  switch (rng.int(0, 7)) {
    case 0:
      e.dtype = rng.pick(DTYPES);
      break;
    case 1: {
      const shape = Array.isArray(e.shape) ? [...(e.shape as Json[])] : [];
      if (shape.length && rng.chance(0.7)) shape[rng.int(0, shape.length - 1)] = rng.weirdInt();
      else shape.push(rng.weirdInt());
      e.shape = shape;
      break;
    }
    case 2:
      e.shape = Array.from({ length: rng.pick([0, 1, 17, 64, 100000]) }, () => rng.pick([1, 0, 2]));
      break;
    case 3:
      e.data_offsets = [rng.weirdInt(), rng.weirdInt()];
      break;
    case 4:
      e.data_offsets = other.data_offsets ?? null; // overlapping (or identical) ranges
      break;
    case 5: {
      const o = e.data_offsets as number[];
      if (Array.isArray(o)) e.data_offsets = [o[1]!, o[0]!];
      break;
    }
    case 6:
      head[rng.pick(["", "__metadata__", "x".repeat(rng.pick([1, 70000])), "a.b", "__proto__"])] = e;
      break;
    default:
      e[rng.pick(["dtype", "shape", "data_offsets", "extra"])] = weirdJson(rng);
  }
}

/** The checkpoint's metadata values are JSON text themselves: edit the JSON inside. */
function editCheckpointMeta(rng: Rng, head: Record<string, Json>): void {
  const meta = head.__metadata__ as Record<string, Json> | undefined;
  if (!meta || typeof meta !== "object") return;
  const keys = Object.keys(meta);
  const k = rng.pick([...keys, "optimizer", "scheduler", "rng", "epoch"]);
  const v = meta[k];
  if (rng.chance(0.15)) {
    delete meta[k];
    return;
  }
  let inner: Json;
  try {
    inner = JSON.parse(typeof v === "string" ? v : "null") as Json;
  } catch {
    inner = null;
  }
  const edited = rng.chance(0.8) ? mutateJson(rng, inner) : weirdJson(rng);
  meta[k] = rng.chance(0.9) ? JSON.stringify(edited) : (weirdJson(rng) as Json);
}

/** One mutated file derived from `base` (other: a second valid file for splices). */
function mutateFile(rng: Rng, base: Uint8Array, other: Uint8Array, checkpoint: boolean): Uint8Array {
  const r = rng.int(0, 99);
  if (r < 50) {
    const { head, data } = split(base);
    const edits = rng.int(1, 3);
    for (let i = 0; i < edits; i++) {
      const k = rng.int(0, 9);
      if (checkpoint && k < 4) editCheckpointMeta(rng, head);
      else if (k < 7) editEntry(rng, head);
      else Object.assign(head, mutateJson(rng, head) as Record<string, Json>);
    }
    let text = JSON.stringify(head);
    if (rng.chance(0.2)) text = mutateJsonText(rng, text);
    let body: Uint8Array = data;
    if (rng.chance(0.2)) body = rng.chance(0.5) ? data.subarray(0, rng.int(0, data.length)) : concat(data, data);
    return join8(text, body, rng.chance(0.1) ? weirdBig(rng) : undefined);
  }
  if (r < 65) {
    const out = base.slice();
    writeUint(
      out,
      0,
      8,
      rng.chance(0.5) ? weirdBig(rng) : BigInt(Math.max(0, split(base).data.length + rng.int(-9, 9))),
    );
    return out;
  }
  if (r < 90) return mutateBytes(rng, base);
  // Splice: the header of one file with the data of the other (or a header made of both).
  const a = split(base);
  const b = split(other);
  if (rng.chance(0.5)) return join8(JSON.stringify(a.head), b.data);
  return join8(JSON.stringify({ ...b.head, ...a.head }), concat(a.data, b.data));
}

export function fuzzSafetensors(rng: Rng, dir: string): () => void {
  const bs = safetensorsBases(dir);
  const file = mutateFile(rng, rng.pick(bs), rng.pick(bs), false);
  const path = join(dir, "input.safetensors");
  writeFileSync(path, file);
  return () => {
    const { tensors } = loadFile(path);
    for (const t of Object.values(tensors)) t.toFlatArray();
  };
}

export function fuzzCheckpoint(rng: Rng, dir: string): () => void {
  const base = checkpointBase(dir);
  const file = mutateFile(rng, base, rng.chance(0.5) ? base : safetensorsBases(dir)[0]!, true);
  const path = join(dir, "input.safetensors");
  writeFileSync(path, file);
  return () => loadAndStep(path);
}

function loadAndStep(path: string): void {
  const targets = makeModel();
  loadCheckpoint(path, targets);
  // What was restored must be usable: a training step with it runs.
  const loss = targets.model
    .forward(randn([2, 3]))
    .square()
    .mean() as unknown as { backward(): void };
  loss.backward();
  targets.optimizer.step();
  targets.scheduler.step();
}
