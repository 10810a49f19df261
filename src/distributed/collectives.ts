// Collective operations over MPI_COMM_WORLD, as torch.distributed's: init, rank, worldSize,
// allReduce (in place), broadcast (in place), barrier. Each runs on the binding's communication
// thread; the synchronous functions here submit and wait. DDP uses submit/Work to overlap.

import { DescentError } from "../core/errors.js";
import type { TypedArray } from "../core/dtype.js";
import { noGrad } from "../autograd/graph.js";
import { Tensor } from "../tensor/tensor.js";
import { loadMpi, mpiBinding, type MpiBinding } from "./binding.js";

/** How allReduce combines the ranks' values elementwise (torch.distributed.ReduceOp; "mean" is SUM / worldSize, as ReduceOp.AVG). */
export type ReduceOp = "sum" | "mean" | "max" | "min";
const OPS: Record<ReduceOp, number> = { sum: 0, mean: 1, max: 2, min: 3 };

let state: { binding: MpiBinding; rank: number; size: number; threadLevel: number } | null = null;

/** True when the MPI binding was built and loads (distributed.init() can work). */
export function isAvailable(): boolean {
  return "binding" in loadMpi();
}

/** True once distributed.init() has joined the MPI job (torch.distributed.is_initialized). */
export function isInitialized(): boolean {
  return state !== null;
}

/** Joins the MPI job (MPI_Init_thread with MPI_THREAD_SERIALIZED); a second call does nothing. */
export function init(): { rank: number; worldSize: number } {
  if (!state) {
    const binding = mpiBinding("distributed.init");
    const [rank, size, threadLevel] = binding.init();
    state = { binding, rank, size, threadLevel };
    // A rank that ends with an error (an uncaught exception exits with 1) aborts the job, so the
    // other ranks do not wait in a collective for it forever; a clean exit finalises MPI.
    // Node prints an uncaught exception only after the exit handlers, which MPI_Abort cuts short:
    // the handler prints it itself.
    let fatal: unknown = undefined;
    process.on("uncaughtExceptionMonitor", (e) => (fatal = e));
    process.on("exit", (code) => {
      if (code === 0) return binding.finalize();
      const why =
        fatal === undefined ? "" : `: ${fatal instanceof Error ? (fatal.stack ?? fatal.message) : String(fatal)}`;
      process.stderr.write(
        `distributed: rank ${rank} of ${size} exits with code ${code}${why}\naborting the MPI job\n`,
      );
      // A moment for mpirun to forward this rank's last output before MPI_Abort ends it.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
      binding.abort(code);
    });
  }
  return { rank: state.rank, worldSize: state.size };
}

function current(where: string): NonNullable<typeof state> {
  if (!state) throw new DescentError(`${where}: call distributed.init() first`);
  return state;
}

/** This process's rank in the job, 0 ≤ rank < worldSize() (torch.distributed.get_rank); throws before init(). */
export function rank(): number {
  return current("distributed.rank").rank;
}

/** The number of ranks in the job (torch.distributed.get_world_size); throws before init(). */
export function worldSize(): number {
  return current("distributed.worldSize").size;
}

/** A submitted collective; wait() blocks until it is done (it may be called once). */
export interface Work {
  wait(): void;
}

/** @internal submits an in-place all-reduce of buf to the communication thread. */
export function allReduceArrayAsync(buf: TypedArray, op: ReduceOp, where = "distributed.allReduce"): Work {
  const s = current(where);
  const code = OPS[op];
  if (code === undefined)
    throw new DescentError(`${where}: op must be "sum", "mean", "max" or "min", got ${JSON.stringify(op)}`);
  if (op === "mean" && buf instanceof Int32Array)
    throw new DescentError(`${where}: op "mean" needs a floating dtype, got int32`);
  const id = s.binding.start(0, buf, code, 0);
  let done = false;
  return {
    wait: () => {
      if (done) return;
      done = true;
      s.binding.wait(id);
    },
  };
}

/** @internal an in-place broadcast of buf from rank src. */
export function broadcastArray(buf: TypedArray, src: number, where = "distributed.broadcast"): void {
  const s = current(where);
  if (!Number.isInteger(src) || src < 0 || src >= s.size)
    throw new DescentError(`${where}: src must be a rank from 0 to ${s.size - 1}, got ${String(src)}`);
  s.binding.wait(s.binding.start(1, buf, 0, src));
}

/** Replaces t's values, on every rank, by their reduction over the ranks (as torch.distributed.all_reduce). */
export function allReduce(t: Tensor, op: ReduceOp = "sum"): Tensor {
  if (!(t instanceof Tensor)) throw new DescentError("distributed.allReduce: expected a Tensor");
  const buf = t.toFlatArray();
  allReduceArrayAsync(buf, op).wait();
  noGrad(() => t.writeFlat_(buf));
  return t;
}

/** Replaces t's values, on every rank, by rank src's (its shape and dtype must agree on all ranks). */
export function broadcast(t: Tensor, src = 0): Tensor {
  if (!(t instanceof Tensor)) throw new DescentError("distributed.broadcast: expected a Tensor");
  const buf = t.toFlatArray();
  broadcastArray(buf, src);
  noGrad(() => t.writeFlat_(buf));
  return t;
}

/** Returns when every rank has called barrier(). */
export function barrier(): void {
  const s = current("distributed.barrier");
  s.binding.wait(s.binding.start(2, null, 0, 0));
}
