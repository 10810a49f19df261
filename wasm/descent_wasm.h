// Shared declarations of Descent's WebAssembly kernels (wasm/*.c), compiled freestanding: no libc,
// so the few library functions clang may call (memcpy, memset) are defined in support.c.
#pragma once
#define EXPORT __attribute__((visibility("default")))
