// A persistent pool of worker threads for the GEMM. A job is cut into parts that threads claim one
// at a time, the caller included, so a worker that is slow to get a core (the machines this runs
// on do not always have the second core free) delays nothing: the caller takes its parts too.
// Idle workers spin for a short, bounded time (back-to-back products then start without a
// wake-up), then sleep on a condition variable; an unbounded spin collapsed throughput here
// (DESIGN.md). Threads are not pinned.
#pragma once

namespace descent {

using Job = void (*)(void* ctx, int part, int parts);

/**
 * Runs job(ctx, i, parts) once for each i in [0, parts), on the calling thread and up to
 * threads − 1 workers, and returns when all have finished. Another caller (a Node worker thread)
 * arriving while the pool is busy runs its parts itself, on its own thread.
 */
void pool_run(Job job, void* ctx, int parts, int threads);

/** Number of threads (including the caller) a product may use; at least 1. */
int pool_threads();
void set_pool_threads(int n);

}  // namespace descent
