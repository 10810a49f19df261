// The generator's bulk uniform fill (src/core/random.ts Generator.fillUniform) in C++: the same
// xoshiro128** steps and 53-bit uniforms as Generator.uniform() and wasm/random.c, so a fill gives
// bit-identical values and state. Every step is exact: 32-bit integer arithmetic, a 53-bit integer
// made and divided by 2^53 in double, then one multiply and one add (not fused: see below) and the
// store's rounding to the array's type, as a Float32Array element store rounds (to nearest, even).
// Why here too: V8 runs the WebAssembly module's first fills in Liftoff code (~20 ns a draw), and a
// new process's first model draws every initial weight that way: W6's MLP, 235k uniforms, ~5 ms of a
// 0.16 s process; here ~1 ns a draw.
// Normal deviates (Box-Muller, as Generator.normal()) take log, cos and sin from JavaScript's Math,
// which is V8's own port of fdlibm (v8::base::ieee754), not C++'s libm (whose last bits differ).
// Node exports those functions: where the running binary has them (dlsym; Node on Linux), the
// normal fill calls the very functions Math.log/cos/sin call, and is registered; elsewhere it is
// not, and the module serves. test/backends/native_random.test.ts compares the values bit for bit.
#include <node_api.h>

#include <cmath>
#include <cstdint>

#if defined(__linux__)
#include <dlfcn.h>
#endif

#include "napi_util.h"

namespace descent {
namespace {

struct Xoshiro {
  std::uint32_t s[4];

  /** The generator at the state words `from` (Generator's s); store() writes them back. */
  explicit Xoshiro(const std::uint32_t* from) : s{from[0], from[1], from[2], from[3]} {}
  void store(std::uint32_t* to) const {
    for (int k = 0; k < 4; k++) to[k] = s[k];
  }

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

/** V8's Math.log, Math.cos and Math.sin (v8::base::ieee754) from the running binary, or nulls. */
struct V8Math {
  using Fn = double (*)(double);
  Fn log = nullptr, cos = nullptr, sin = nullptr;
  static const V8Math& get() {
    static const V8Math m = [] {
      V8Math r;
#if defined(__linux__)
      r.log = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "_ZN2v84base7ieee7543logEd"));
      r.cos = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "_ZN2v84base7ieee7543cosEd"));
      r.sin = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "_ZN2v84base7ieee7543sinEd"));
#endif
      return r;
    }();
    return m;
  }
  bool ok() const { return log && cos && sin; }
};

/** `pairs` Box-Muller pairs from out[0] on, as Generator.normal() makes them: the cosine deviate first. */
template <typename T>
void normals(T* out, std::size_t pairs, Xoshiro& g, double a, double b, bool affine, const V8Math& m) {
  for (std::size_t k = 0; k < pairs; k++) {
    const double u1 = 1 - g.uniform();  // (0, 1]: log stays finite
    const double u2 = g.uniform();
    const double r = std::sqrt(-2 * m.log(u1));
    const double angle = 2 * 3.141592653589793 * u2;  // 2 * Math.PI * u2, as (2 * Math.PI) * u2
    const double c = r * m.cos(angle), sn = r * m.sin(angle);
    if (affine) {
      volatile double cs = c * a, ss = sn * a;  // their own roundings: no fused multiply-add
      out[2 * k] = T(cs + b);
      out[2 * k + 1] = T(ss + b);
    } else {
      out[2 * k] = T(c);
      out[2 * k + 1] = T(sn);
    }
  }
}

/** Reads out (Float32Array | Float64Array) at 0, then state (Uint32Array(4)), a, b and affine from `rest` on. */
bool fill_args(const Entry& e, int rest, Array* out, std::uint32_t** state, double* a, double* b, bool* affine) {
  Array st;
  if (!typed_array(e.env, e.argv[0], out) || (out->type != napi_float32_array && out->type != napi_float64_array))
    return e.fail("expected out: Float32Array or Float64Array"), false;
  if (!typed_array(e.env, e.argv[rest], &st) || st.type != napi_uint32_array || st.length != 4)
    return e.fail("expected state: Uint32Array(4)"), false;
  if (napi_get_value_double(e.env, e.argv[rest + 1], a) != napi_ok ||
      napi_get_value_double(e.env, e.argv[rest + 2], b) != napi_ok ||
      napi_get_value_bool(e.env, e.argv[rest + 3], affine) != napi_ok)
    return e.fail("expected a, b: numbers and affine: boolean"), false;
  *state = static_cast<std::uint32_t*>(st.data);
  return true;
}

/**
 * fillNormal(out, offset, pairs, state: Uint32Array(4), a, b, affine): `pairs` Box-Muller pairs into
 * out[offset …], advancing state (Generator.fillNormal keeps the spare and any odd last element).
 */
napi_value FillNormal(napi_env env, napi_callback_info info) {
  Entry e(env, info, "fillNormal");
  if (!e.at_least(7)) return nullptr;
  Array out;
  std::uint32_t* s = nullptr;
  double a = 0, b = 0, offset = 0, pairs = 0;
  bool affine = false;
  if (!fill_args(e, 3, &out, &s, &a, &b, &affine)) return nullptr;
  if (napi_get_value_double(env, e.argv[1], &offset) != napi_ok || napi_get_value_double(env, e.argv[2], &pairs) != napi_ok ||
      !integral(offset) || !integral(pairs) || offset < 0 || pairs < 0 || !span_inside(std::ptrdiff_t(offset), 2 * std::ptrdiff_t(pairs), out.length))
    return e.fail("offset + 2 * pairs must lie inside out");
  Xoshiro g(s);
  const V8Math& m = V8Math::get();
  if (out.type == napi_float32_array)
    normals(static_cast<float*>(out.data) + std::size_t(offset), std::size_t(pairs), g, a, b, affine, m);
  else
    normals(static_cast<double*>(out.data) + std::size_t(offset), std::size_t(pairs), g, a, b, affine, m);
  g.store(s);
  return nullptr;
}

/** fillUniform(out: Float32Array | Float64Array, state: Uint32Array(4), a, b, affine): fills out, advances state. */
napi_value FillUniform(napi_env env, napi_callback_info info) {
  Entry e(env, info, "fillUniform");
  if (!e.at_least(5)) return nullptr;
  Array out;
  std::uint32_t* s = nullptr;
  double a = 0, b = 0;
  bool affine = false;
  if (!fill_args(e, 1, &out, &s, &a, &b, &affine)) return nullptr;
  Xoshiro g(s);
  if (out.type == napi_float32_array)
    fill(static_cast<float*>(out.data), out.length, g, a, b, affine);
  else
    fill(static_cast<double*>(out.data), out.length, g, a, b, affine);
  g.store(s);
  return nullptr;
}

}  // namespace

void register_random(napi_env env, napi_value exports) {
  napi_property_descriptor p[] = {
      {"fillUniform", nullptr, FillUniform, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"fillNormal", nullptr, FillNormal, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, V8Math::get().ok() ? 2 : 1, p);  // fillNormal only with V8's own Math
}

}  // namespace descent
