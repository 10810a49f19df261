# node-gyp build of Descent's native backend (native/*.cc), run by `npm install` through
# native/install.mjs. One build serves every x86-64: the SIMD kernels carry per-function target
# attributes and are picked at run time, so no -march flag is passed.
{
  "targets": [
    {
      "target_name": "descent_native",
      "sources": ["native/addon.cc", "native/gemm.cc", "native/gemm_tune.cc", "native/pool.cc", "native/kernels_x86.cc", "native/gemm_small.cc", "native/window.cc", "native/fused.cc", "native/elementwise.cc", "native/rnn.cc", "native/rnn_napi.cc", "native/attention.cc", "native/probe.cc", "native/layernorm.cc", "native/linear.cc", "native/gelu.cc", "native/plan.cc", "native/random.cc", "native/heap.cc"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-std=c++17", "-O3", "-fno-exceptions", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fno-math-errno"],
      "cflags_cc!": ["-fno-rtti", "-std=gnu++17", "-O2"],
      "ldflags": ["-pthread"],
      "cflags": ["-pthread"],
      "xcode_settings": {
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "GCC_OPTIMIZATION_LEVEL": "3"
      }
    }
  ]
}
