// The process's heap as the native backend wants it (issue 15): freed memory kept by glibc rather
// than returned and faulted back in, large outputs and a new process's first tensors on transparent
// huge pages. In the VMs here a 4 KiB page fault costs ~11 µs (a C loop touching 64 MiB: 11.3 µs a
// page, 0.2–0.7 µs with THP), so pages touched for the first time were much of a product with a new
// output and of a new process's start-up (W6). Process-wide, hence each with an off switch.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include <malloc.h>
#include <sys/mman.h>

#include "gemm.h"

namespace descent {
namespace {

constexpr std::uintptr_t kHugePage = std::uintptr_t(2) << 20;

/** The first 2 MiB boundary at or above p. */
[[maybe_unused]] std::uintptr_t huge_up(const void* p) { return (reinterpret_cast<std::uintptr_t>(p) + kHugePage - 1) & ~(kHugePage - 1); }

}  // namespace

/**
 * A large output is often a fresh allocation (a new tensor's storage) whose pages the kernel
 * faults in one 4 KiB page at a time: in the VMs here that doubled the time of a 1024² product
 * with a new output each call (82 vs 170 GFLOP/s, 1 thread). Asking for transparent huge pages
 * on the 2 MiB-aligned part of C (THP in "madvise" mode, the common default) makes that two
 * faults; pages already present are left as they are. Only whole 2 MiB pages inside C are named.
 */
void advise_huge(void* c, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const std::uintptr_t lo = huge_up(c);
  const std::uintptr_t hi = (reinterpret_cast<std::uintptr_t>(c) + bytes) & ~(kHugePage - 1);
  if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);
#else
  (void)c, (void)bytes;
#endif
}

/**
 * The other half of that cost: V8 frees typed arrays in bulk when it collects, so glibc's heap top
 * shrinks past its trim threshold and returns the pages, and the next outputs fault them back in
 * (PyTorch, which frees each output at once, reuses the same heap chunk). With freed memory kept
 * (up to 256 MiB at the top of the heap; blocks up to 32 MiB from the heap, glibc's own maximum
 * for its adaptive threshold), a new 1024² output each call ran at 154 vs 82 GFLOP/s, 173 with
 * huge pages too (raw product 192); at 256² (256 KiB outputs, past glibc's first 128 KiB mmap
 * threshold) 35 vs 195 raw before. Set once, at load (reserve_huge_heap) or on the first product
 * with an output of 128 KiB or more, unless DESCENT_KEEP_FREED_MEMORY=0. Returns whether it is set.
 */
bool keep_freed_memory() {
#if defined(__GLIBC__) && defined(M_TRIM_THRESHOLD)
  static const bool done = [] {
    const char* env = std::getenv("DESCENT_KEEP_FREED_MEMORY");
    if (env && std::strcmp(env, "0") == 0) return false;
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    return true;
  }();
  return done;
#else
  return false;
#endif
}

/**
 * A new process's first tensors (weights, gradients, optimizer state, activations) are fresh heap
 * whose pages the kernel faults in 4 KiB at a time, and in the VMs here a fault costs ~11 µs (a
 * C loop touching 64 MiB: 11.3 µs per 4 KiB page, 0.2–0.7 with THP): W6's one MLP step faulted
 * ~1,950 pages after the import, ~21 ms of a 0.19 s process. glibc's own remedy, the tunable
 * glibc.malloc.hugetlb=1 (THP on the heap as it grows), only the environment can set. Here, once,
 * at load: with freed memory kept (keep_freed_memory), the heap grows by kHugeHeap in one block,
 * its 2 MiB-aligned part is marked for transparent huge pages (as advise_huge), and the block goes
 * back to malloc at the heap's top, where the next allocations are carved: 2 MiB per fault. Only
 * address space until touched. DESCENT_KEEP_FREED_MEMORY=0 or DESCENT_HUGE_HEAP=0 leaves the heap
 * as glibc grows it.
 */
void reserve_huge_heap() {
#if defined(__GLIBC__) && defined(__linux__) && defined(MADV_HUGEPAGE)
  static const bool done = [] {
    constexpr std::size_t kHugeHeap = std::size_t(30) << 20;  // below the 32 MiB mmap threshold: from the heap
    const char* env = std::getenv("DESCENT_HUGE_HEAP");
    if ((env && std::strcmp(env, "0") == 0) || !keep_freed_memory()) return false;
    void* block = std::malloc(kHugeHeap);
    if (!block) return false;
    advise_huge(block, kHugeHeap);
    std::free(block);
    // The next allocations are carved from the block's start upward, and those below its first
    // 2 MiB boundary (up to 2 MiB, ~500 faults) would still fault 4 KiB at a time: a chunk that
    // stays allocated fills that gap (address space; only its header's page is touched), where
    // malloc carves it from the freed block's start (else it is freed again and the gap stays).
    const std::size_t gap = huge_up(block) - reinterpret_cast<std::uintptr_t>(block);
    const std::size_t header = 2 * sizeof(std::size_t);  // glibc's chunk header before each block
    if (gap > 4 * header) {
      void* pad = std::malloc(gap - header);
      if (pad != block) std::free(pad);
    }
    return true;
  }();
  (void)done;
#endif
}

}  // namespace descent
