// The worker pool of pool.h. One process-wide pool, created on first use, never destroyed (its
// threads are detached so that process exit does not wait on them).
//
// Claiming: `ticket` holds the job's generation (high 32 bits) and the next unclaimed part (low
// 32). A thread claims by compare-and-swap, and only while the generation is the one it woke for,
// so a worker that wakes late can never take a part of a finished job or of the next one; and the
// caller does not publish a new job until every claimed part is done, so job/ctx/parts stay valid
// for whoever holds a claim. When a job ends the caller closes its ticket (index kClosed): a
// worker of that generation that read the ticket just before, and then the *next* job's larger
// part count, would otherwise claim a stray part of the next job on the old ticket, run it twice
// and push `done` past `parts`, so the caller waited forever (seen in a Fashion-MNIST run).
#include "pool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#ifdef __linux__
#include <sched.h>
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void cpu_relax() { _mm_pause(); }
#elif defined(__aarch64__)
static inline void cpu_relax() { __asm__ __volatile__("yield"); }
#else
static inline void cpu_relax() {}
#endif

namespace descent {
namespace {

/** How long an idle thread polls before it sleeps: bridges the JS between the matmuls of a layer without holding a shared core for long. */
constexpr auto kSpin = std::chrono::microseconds(100);
constexpr int kMaxThreads = 64;
constexpr std::uint32_t kClosed = 0x7FFFFFFF;  // a ticket index no job reaches (parts is an int)

struct Pool {
  std::mutex mu;                    // guards sleeping and waking
  std::condition_variable work_cv;  // workers sleep here for a job
  std::condition_variable done_cv;  // the caller sleeps here for the last part
  std::atomic<std::uint64_t> ticket{0};
  std::atomic<int> done{0};
  Job job = nullptr;
  void* ctx = nullptr;
  std::atomic<int> parts{0};
  std::atomic<int> helpers{0};  // workers this job may use (threads − 1); more may have been started earlier
  int workers = 0;  // threads started
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: detached workers reference it until exit
  return *p;
}

std::mutex caller_mu;  // one caller at a time
std::atomic<int> configured{0};

/** Spins up to kSpin for `ready`, then sleeps on `cv` until it holds. */
template <typename Ready>
void await(std::condition_variable& cv, Ready ready) {
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; !ready(); i++) {
    cpu_relax();
    if ((i & 63) == 63 && std::chrono::steady_clock::now() - start > kSpin) {
      std::unique_lock<std::mutex> lock(pool().mu);
      cv.wait(lock, ready);
      return;
    }
  }
}

/** Claims and runs parts of generation `gen` until none are left. */
void work(Pool& p, std::uint32_t gen) {
  for (;;) {
    std::uint64_t t = p.ticket.load(std::memory_order_acquire);
    const int parts = p.parts.load(std::memory_order_acquire);
    if (std::uint32_t(t >> 32) != gen || std::uint32_t(t) >= std::uint32_t(parts)) return;
    if (!p.ticket.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel)) continue;
    p.job(p.ctx, int(std::uint32_t(t)), parts);
    if (p.done.fetch_add(1, std::memory_order_acq_rel) + 1 == parts) {
      std::lock_guard<std::mutex> lock(p.mu);
      p.done_cv.notify_one();
    }
  }
}

void worker(int id) {
  Pool& p = pool();
  std::uint32_t seen = 0;
  for (;;) {
    await(p.work_cv, [&] { return std::uint32_t(p.ticket.load(std::memory_order_acquire) >> 32) != seen; });
    seen = std::uint32_t(p.ticket.load(std::memory_order_acquire) >> 32);
    if (id < p.helpers.load(std::memory_order_relaxed)) work(p, seen);
  }
}

/**
 * The default thread count: the CPUs this process may run on (its affinity mask, which a container
 * or `taskset` narrows; hardware_concurrency counts the whole machine), at most kMaxThreads.
 */
int available_cpus() {
  int n = 0;
#ifdef __linux__
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
#endif
  if (n < 1) n = int(std::thread::hardware_concurrency());
  return n < 1 ? 1 : n > kMaxThreads ? kMaxThreads : n;
}

}  // namespace

int pool_threads() {
  int n = configured.load(std::memory_order_relaxed);
  if (n > 0) return n;
  static const int available = available_cpus();
  return available;
}

void set_pool_threads(int n) { configured.store(n < 1 ? 1 : n > kMaxThreads ? kMaxThreads : n); }

void pool_run(Job job, void* ctx, int parts, int threads) {
  std::unique_lock<std::mutex> caller(caller_mu, std::defer_lock);
  if (threads <= 1 || parts <= 1 || !caller.try_lock()) {
    for (int i = 0; i < parts; i++) job(ctx, i, parts);
    return;
  }
  Pool& p = pool();
  while (p.workers < threads - 1 && p.workers < kMaxThreads) {
    std::thread(worker, p.workers++).detach();
  }
  p.job = job;
  p.ctx = ctx;
  p.parts.store(parts, std::memory_order_release);
  p.helpers.store(threads - 1, std::memory_order_relaxed);
  p.done.store(0, std::memory_order_relaxed);
  std::uint32_t gen;
  {
    std::lock_guard<std::mutex> lock(p.mu);
    gen = std::uint32_t(p.ticket.load(std::memory_order_relaxed) >> 32) + 1;
    p.ticket.store(std::uint64_t(gen) << 32, std::memory_order_release);
  }
  p.work_cv.notify_all();
  work(p, gen);
  await(p.done_cv, [&] { return p.done.load(std::memory_order_acquire) == parts; });
  p.ticket.store((std::uint64_t(gen) << 32) | kClosed, std::memory_order_release);
}

}  // namespace descent
