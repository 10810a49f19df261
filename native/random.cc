// The generator's bulk uniform fill (src/core/random.ts Generator.fillUniform) in C++: the same
// xoshiro128** steps and 53-bit uniforms as Generator.uniform() and wasm/random.c, so a fill gives
// bit-identical values and state. Every step is exact: 32-bit integer arithmetic, a 53-bit integer
// made and divided by 2^53 in double, then one multiply and one add (not fused: see below) and the
// store's rounding to the array's type, as a Float32Array element store rounds (to nearest, even).
// Why here too: V8 runs the WebAssembly module's first fills in Liftoff code (~20 ns a draw), and a
// new process's first model draws every initial weight that way: W6's MLP, 235k uniforms, ~5 ms of a
// 0.16 s process; here ~1 ns a draw. Normal deviates stay in the module: they take log, cos and
// sin from JavaScript's Math (V8's own fdlibm port), which C++'s libm does not match bit for bit.
#include <node_api.h>

#include <cstdint>

#include "napi_util.h"

namespace descent {
namespace {

struct Xoshiro {
  std::uint32_t s[4];

  static std::uint32_t rotl(std::uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

  std::uint32_t next() {
    const std::uint32_t result = rotl(s[1] * 5, 7) * 9;
    const std::uint32_t t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  double uniform() {
    const std::uint32_t hi = next() >> 5;
    const std::uint32_t lo = next() >> 6;
    return (double(hi) * 67108864.0 + double(lo)) / 9007199254740992.0;
  }
};

/**
 * out[i] = uniform() (affine: uniform() * a + b). The multiply and the add round separately, as in
 * JavaScript and WebAssembly: the product goes through a volatile double, so no compiler contracts
 * the two into a fused multiply-add (GCC does by default where the target has one).
 */
template <typename T>
void fill(T* out, std::size_t n, Xoshiro& g, double a, double b, bool affine) {
  if (affine)
    for (std::size_t i = 0; i < n; i++) {
      volatile double scaled = g.uniform() * a;
      out[i] = T(scaled + b);
    }
  else
    for (std::size_t i = 0; i < n; i++) out[i] = T(g.uniform());
}

/** fillUniform(out: Float32Array | Float64Array, state: Uint32Array(4), a, b, affine): fills out, advances state. */
napi_value FillUniform(napi_env env, napi_callback_info info) {
  Entry e(env, info, "fillUniform");
  if (!e.at_least(5)) return nullptr;
  Array out, state;
  if (!typed_array(env, e.argv[0], &out) || (out.type != napi_float32_array && out.type != napi_float64_array))
    return e.fail("expected out: Float32Array or Float64Array");
  if (!typed_array(env, e.argv[1], &state) || state.type != napi_uint32_array || state.length != 4)
    return e.fail("expected state: Uint32Array(4)");
  double a = 0, b = 0;
  bool affine = false;
  if (napi_get_value_double(env, e.argv[2], &a) != napi_ok || napi_get_value_double(env, e.argv[3], &b) != napi_ok ||
      napi_get_value_bool(env, e.argv[4], &affine) != napi_ok)
    return e.fail("expected a, b: numbers and affine: boolean");
  Xoshiro g;
  auto* s = static_cast<std::uint32_t*>(state.data);
  for (int k = 0; k < 4; k++) g.s[k] = s[k];
  if (out.type == napi_float32_array)
    fill(static_cast<float*>(out.data), out.length, g, a, b, affine);
  else
    fill(static_cast<double*>(out.data), out.length, g, a, b, affine);
  for (int k = 0; k < 4; k++) s[k] = g.s[k];
  return nullptr;
}

}  // namespace

void register_random(napi_env env, napi_value exports) {
  napi_property_descriptor p = {"fillUniform", nullptr, FillUniform, nullptr, nullptr, nullptr, napi_default, nullptr};
  napi_define_properties(env, exports, 1, &p);
}

}  // namespace descent
