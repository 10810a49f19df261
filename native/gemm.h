// Descent native GEMM: the interface between the Node-API glue (addon.cc), the blocked driver
// (gemm.cc) and the SIMD micro-kernels (kernels_x86.cc). Every operand is a strided view
// (element strides, possibly 0 or negative), so transposed and broadcast tensors need no copy.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstdint>

namespace descent {

/** Instruction sets with a micro-kernel, best last. */
enum class Isa : int { portable = 0, avx2 = 1, avx512 = 2 };

/**
 * A micro-kernel: c[0..MR)[0..NR) (row stride ldc) = (accumulate ? c : 0) + Apanel · Bpanel, where
 * Apanel holds MR values per depth step and Bpanel NR values per depth step (both packed, aligned).
 */
template <typename T>
using MicroKernel = void (*)(std::ptrdiff_t kc, const T* a, const T* b, T* c, std::ptrdiff_t ldc, bool accumulate);

/**
 * Packs n lines (n a multiple of R, R of 8) whose depth is contiguous (line i at src + i·sR) into
 * panels of R lines as gemm.cc's pack does: 8×8 transposes in registers instead of a scalar
 * gather (A of a row-major product, B of x·Wᵀ with W row-major).
 */
template <typename T>
using PackT = void (*)(T* dst, int R, const T* src, std::ptrdiff_t sR, std::ptrdiff_t n, std::ptrdiff_t kc);

template <typename T>
struct Kernel {
  int mr;
  int nr;
  MicroKernel<T> fn;
  PackT<T> packT = nullptr;  // null: the scalar pack
};

/** The kernels available on this CPU (x86: cpuid; elsewhere only portable). Defined in gemm_tune.cc. */
Isa detect_isa();

/** Data-cache sizes in bytes (0: unknown) and where they were read from. */
struct CacheSizes {
  std::size_t l1d = 0, l2 = 0, l3 = 0;
  const char* source = "none";
};

/**
 * The byte budgets the blocked driver sizes its blocks from (gemm_tune.cc derives them from the
 * detected caches): a KC×NR panel of packed B (kept in L1 while every A panel streams past it),
 * an MC×KC block of packed A (L2), and the packed B block of K×NC shared by the threads (L3).
 */
struct Tuning {
  const char* uarch = "unknown";
  CacheSizes cache;
  std::size_t l1Panel = 0, l2Block = 0, l3Block = 0;
};
Tuning tuning();
/** Overrides the budgets (0 keeps the derived one): for benchmarks that sweep them, and tests. */
void set_tuning(std::size_t l1Panel, std::size_t l2Block, std::size_t l3Block);

/** The block sizes the driver uses for an M×K·K×N product of T on `isa` (reported by the suite). */
struct Blocks {
  int mr, nr;
  std::ptrdiff_t kc, mc, nc;
};
Blocks gemm_blocks(Isa isa, bool f64, std::ptrdiff_t M, std::ptrdiff_t N, std::ptrdiff_t K, int threads);
/** The kernel for `isa`, or the portable one when this build has none for it. */
Kernel<float> kernel_f32(Isa isa);
Kernel<double> kernel_f64(Isa isa);

// Defined in kernels_x86.cc on x86-64 (each function compiled for its own target).
Kernel<float> kernel_f32_avx2();
Kernel<float> kernel_f32_avx512();
Kernel<double> kernel_f64_avx2();
Kernel<double> kernel_f64_avx512();

/**
 * What the write-out of a product applies to each finished value of C (a compiled plan's fused
 * bias, folded BatchNorm and activation): c = act(c·scale[ch] + shift[ch]), ch the row (perRow: a
 * conv's output channel) or the column (a Linear's output feature); a null scale or shift is 1 or
 * 0; act is a code of plan_ops.h (0, identity, for none), alpha its parameter.
 */
template <typename T>
struct Epilogue {
  const T* scale = nullptr;
  const T* shift = nullptr;
  bool perRow = false;
  int act = 0;
  T alpha = 0;
};

/** Applies e to an mr×nr tile of C at global row r0, column c0 (the channel index). */
void apply_epilogue(const Epilogue<float>& e, float* c, std::ptrdiff_t ldc, std::ptrdiff_t r0, std::ptrdiff_t c0,
                    std::ptrdiff_t mr, std::ptrdiff_t nr);
void apply_epilogue(const Epilogue<double>& e, double* c, std::ptrdiff_t ldc, std::ptrdiff_t r0, std::ptrdiff_t c0,
                    std::ptrdiff_t mr, std::ptrdiff_t nr);

/** One matrix product C[M×N] = A[M×K] · B[K×N]; A and B strided, C row-major with row stride ldc. */
template <typename T>
struct Product {
  std::ptrdiff_t M, N, K;
  const T* a;
  std::ptrdiff_t sAm, sAk;
  const T* b;
  std::ptrdiff_t sBk, sBn;
  T* c;
  std::ptrdiff_t ldc;
  // Optional write-out (null: plain C). epRow/epCol: where this product's C starts in the
  // epilogue's channel numbering (a thread's strip of columns starts at epCol = its first column).
  const Epilogue<T>* ep = nullptr;
  std::ptrdiff_t epRow = 0, epCol = 0;
};

/** A batch of products sharing M, N, K: matrix t starts at a + aStart[t], b + bStart[t], c + t·M·N. */
template <typename T>
struct Batch {
  Product<T> p;  // a, b, c of matrix 0
  std::ptrdiff_t count;
  const std::ptrdiff_t* aStart;
  const std::ptrdiff_t* bStart;
};

/**
 * The small-M / small-N path (gemm_small.cc): computes q without packing and returns true, or
 * returns false (too many rows and columns, or a layout it does not stream) and does nothing.
 */
template <typename T>
using SmallGemm = bool (*)(const Product<T>& q);
SmallGemm<float> small_gemm_f32(Isa isa);
SmallGemm<double> small_gemm_f64(Isa isa);

/**
 * Grow-only, 64-byte aligned scratch, one per thread (the caller's and each worker's) and Tag, at
 * least n elements: gemm.cc's tag 0 holds a thread's own block of A, 1 the caller's block of B that
 * its workers read; the plan's conv (2) and segments (3) keep their panels and intermediates here.
 */
template <typename T, int Tag>
T* scratch(std::size_t n) {
  struct Buf {
    void* p = nullptr;
    std::size_t cap = 0;
    ~Buf() { std::free(p); }
  };
  thread_local Buf buf;
  std::size_t bytes = (n * sizeof(T) + 63) & ~std::size_t(63);
  if (buf.cap < bytes) {
    std::free(buf.p);
    buf.p = std::aligned_alloc(64, bytes);
    buf.cap = buf.p ? bytes : 0;
  }
  return static_cast<T*>(buf.p);
}

// heap.cc: the process's heap as the native backend wants it (each says why, and its off switch).
/** Transparent huge pages for the whole 2 MiB pages inside [c, c + bytes) (a large output). */
void advise_huge(void* c, std::size_t bytes);
/** glibc keeps freed memory (trim and mmap thresholds), once; returns whether it does. */
bool keep_freed_memory();
/** Once per process, at load: the heap's next 30 MiB asked for transparent huge pages. */
void reserve_huge_heap();

/** Runs the batch with up to `threads` threads (the pool's), picking the kernel for `isa`. */
void gemm_batch(const Batch<float>& batch, Isa isa, int threads);
void gemm_batch(const Batch<double>& batch, Isa isa, int threads);

}  // namespace descent
