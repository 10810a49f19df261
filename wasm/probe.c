// The wasm peak probe of the benchmark suite (bench/suite.ts; native/probe.cc is the native one):
// the float32 throughput one thread gets from SIMD128, so W1's wasm GEMM can be reported as a share
// of what any SIMD128 kernel can do on this core. SIMD128 has no FMA, so a GEMM step is an
// f32x4.mul and an f32x4.add; the probe runs CHAINS independent acc = acc·b + c chains (V8 lowers
// them to 128-bit vmulps/vaddps), enough to hide both latencies, few enough that the chains and the
// two constants stay in V8's 15 usable xmm registers (14 chains spilled and halved the rate here).
// Measured on Zen 5 (2 FMUL + 2 FADD pipes): 12 chains unrolled 4x gave 16 flops a cycle, mul-only
// and add-only chains 8 each; unrolling matters (1x: ~14, V8's loop check costs issue slots).
#include <wasm_simd128.h>

#include "descent_wasm.h"

#define CHAINS 12

/** `iters` steps of every chain (8 flops a lane-group step); returns a value that depends on all of them. */
EXPORT float peak_f32(int iters, float b, float c) {
  v128_t acc[CHAINS];
  v128_t vb = wasm_f32x4_splat(b), vc = wasm_f32x4_splat(c);
  for (int k = 0; k < CHAINS; k++) acc[k] = wasm_f32x4_splat(1.0f + 0.01f * k);
#pragma clang loop unroll_count(4)
  for (int i = 0; i < iters; i++)
    for (int k = 0; k < CHAINS; k++) acc[k] = wasm_f32x4_add(wasm_f32x4_mul(acc[k], vb), vc);
  v128_t s = acc[0];
  for (int k = 1; k < CHAINS; k++) s = wasm_f32x4_add(s, acc[k]);
  return wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 3);
}

/** Flops of one step of peak_f32's loop (CHAINS chains × 4 lanes × a mul and an add). */
EXPORT int peak_flops_per_iter(void) { return CHAINS * 8; }
