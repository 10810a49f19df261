// The library functions clang may emit calls to in freestanding wasm (struct copies, zeroed local
// arrays); bulk-memory turns them into single memory.copy / memory.fill instructions.
#include <stddef.h>

void* memcpy(void* d, const void* s, size_t n) {
  __builtin_memcpy(d, s, n);
  return d;
}
void* memmove(void* d, const void* s, size_t n) {
  __builtin_memmove(d, s, n);
  return d;
}
void* memset(void* d, int c, size_t n) {
  __builtin_memset(d, c, n);
  return d;
}
