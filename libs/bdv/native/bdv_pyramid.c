// Node-API binding for the pyramid's block sums (docs/adr/031): the three loops of
// libs/bdv/src/pyramid/block-mean.ts, which the streaming pyramid (level-stream.ts) runs for
// every voxel of every subsampled level, in C. Built by scripts/build-native.mjs; loaded by
// libs/bdv/src/pyramid/block-kernels.ts; libs/bdv uses the TypeScript loops without it.
//
// Same results to the bit: every sum is an integer below 2^53 (exact in float64, whatever order
// it is added in), kept in float64 accumulators as there, and a mean is floor(sum / divisor) with
// the same IEEE division.
#define NAPI_VERSION 8
#include <math.h>
#include <node_api.h>
#include "napi_helpers.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The elements of a typed array argument of the given type (over an ArrayBuffer or a
// SharedArrayBuffer: HDF5's heap is shared, docs/adr/019).
static int elements_of(napi_env env, napi_value value, napi_typedarray_type want, void **data, size_t *length) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, value, &type, length, data, NULL, NULL) != napi_ok) return 0;
  return type == want;
}

// A plane dimension or a factor: an integer from 1 to 2^31 - 1 (the model bounds both far lower).
static int dimension_of(napi_env env, napi_value value, size_t *out) {
  double n = 0;
  if (napi_get_value_double(env, value, &n) != napi_ok || !(n >= 1) || n > 2147483647.0 || n != (double)(int64_t)n)
    return 0;
  *out = (size_t)n;
  return 1;
}

// The arguments shared by both sums: (plane, ny, nx, fy, fx, acc), each array long enough for the
// plane and for its ceil(ny/fy) x ceil(nx/fx) block sums. On failure a JS exception is pending.
typedef struct {
  void *plane;
  double *acc;
  size_t ny, nx, fy, fx;
} sum_args;

static int sum_args_of(napi_env env, napi_callback_info info, napi_typedarray_type plane_type, const char *name,
                       sum_args *a) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t plane_length = 0, acc_length = 0;
  char message[160];
  if (argc < 6 || !elements_of(env, argv[0], plane_type, &a->plane, &plane_length) ||
      !elements_of(env, argv[5], napi_float64_array, (void **)&a->acc, &acc_length)) {
    snprintf(message, sizeof message, "%s: takes (plane: %s, ny, nx, fy, fx, acc: Float64Array)", name,
             plane_type == napi_uint16_array ? "Uint16Array" : "Float64Array");
    napi_throw_type_error(env, NULL, message);
    return 0;
  }
  if (!dimension_of(env, argv[1], &a->ny) || !dimension_of(env, argv[2], &a->nx) || !dimension_of(env, argv[3], &a->fy) ||
      !dimension_of(env, argv[4], &a->fx)) {
    snprintf(message, sizeof message, "%s: ny, nx, fy and fx must be positive integers", name);
    napi_throw_range_error(env, NULL, message);
    return 0;
  }
  // Each factor below 2^31: the products below fit in 64 bits.
  uint64_t plane = (uint64_t)a->ny * a->nx;
  uint64_t sums = (uint64_t)((a->ny + a->fy - 1) / a->fy) * ((a->nx + a->fx - 1) / a->fx);
  if (plane > plane_length || sums > acc_length) {
    snprintf(message, sizeof message, "%s: the plane or the accumulator is shorter than ny x nx asks", name);
    napi_throw_range_error(env, NULL, message);
    return 0;
  }
  return 1;
}

// The sums of one output row: the fy input rows from `in` (fewer at the plane's bottom edge), each
// fx-wide block summed across them into `row` (zeroed here), the block overhanging the right edge
// summing what is there. uint32 holds any block of up to 65,536 voxels of uint16.
static void row_sums_u16(const uint16_t *in, size_t rows, size_t nx, size_t fx, uint32_t *row, size_t nxo) {
  size_t full = nx / fx;
  memset(row, 0, nxo * sizeof *row);
  for (size_t r = 0; r < rows; r++, in += nx) {
    // The widths BigDataViewer's pyramids use get loops the compiler can vectorise.
    if (fx == 1)
      for (size_t o = 0; o < full; o++) row[o] += in[o];
    else if (fx == 2)
      for (size_t o = 0; o < full; o++) row[o] += (uint32_t)in[2 * o] + in[2 * o + 1];
    else if (fx == 4)
      for (size_t o = 0; o < full; o++) row[o] += (uint32_t)in[4 * o] + in[4 * o + 1] + in[4 * o + 2] + in[4 * o + 3];
    else
      for (size_t o = 0; o < full; o++)
        for (size_t k = 0; k < fx; k++) row[o] += in[o * fx + k];
    for (size_t x = full * fx; x < nx; x++) row[full] += in[x];
  }
}

// addPlaneBlockSums(plane: Uint16Array, ny, nx, fy, fx, acc: Float64Array): adds the fy x fx block
// sums of the (ny, nx) plane into acc (ceil(ny/fy) x ceil(nx/fx)). Every sum is an integer below
// 2^53, so adding a block's rows together before the accumulator gives the TypeScript loop's
// float64 to the bit, with one pass over the accumulator per fy input rows instead of per row.
static napi_value add_plane_block_sums(napi_env env, napi_callback_info info) {
  sum_args a;
  if (!sum_args_of(env, info, napi_uint16_array, "addPlaneBlockSums", &a)) return NULL;
  const uint16_t *plane = a.plane;
  size_t nyo = (a.ny + a.fy - 1) / a.fy, nxo = (a.nx + a.fx - 1) / a.fx;
  if ((uint64_t)a.fy * a.fx > 65536) {
    // Blocks too large for uint32 (factors beyond any pyramid BigDataViewer proposes): row by row.
    for (size_t y = 0; y < a.ny; y++) {
      const uint16_t *in = plane + y * a.nx;
      double *out = a.acc + (y / a.fy) * nxo;
      for (size_t o = 0; o < nxo; o++) {
        uint64_t s = 0;
        for (size_t x = o * a.fx; x < a.nx && x < (o + 1) * a.fx; x++) s += in[x];
        out[o] += (double)s;
      }
    }
    return NULL;
  }
  uint32_t *row = malloc(nxo * sizeof *row);
  if (row == NULL) return fail(env, napi_throw_error, "addPlaneBlockSums: out of memory");
  for (size_t yo = 0; yo < nyo; yo++) {
    size_t y0 = yo * a.fy, rows = a.ny - y0 < a.fy ? a.ny - y0 : a.fy;
    row_sums_u16(plane + y0 * a.nx, rows, a.nx, a.fx, row, nxo);
    double *out = a.acc + yo * nxo;
    for (size_t o = 0; o < nxo; o++) out[o] += row[o];
  }
  free(row);
  return NULL;
}

// addSumPlaneBlockSums(plane: Float64Array, ...): the same over a plane of a finer level's sums
// (integers below 2^53 too: every order of adding them gives the same float64).
static napi_value add_sum_plane_block_sums(napi_env env, napi_callback_info info) {
  sum_args a;
  if (!sum_args_of(env, info, napi_float64_array, "addSumPlaneBlockSums", &a)) return NULL;
  const double *plane = a.plane;
  size_t nxo = (a.nx + a.fx - 1) / a.fx, full = a.nx / a.fx;
  for (size_t y = 0; y < a.ny; y++) {
    const double *in = plane + y * a.nx;
    double *out = a.acc + (y / a.fy) * nxo;
    if (a.fx == 1)
      for (size_t o = 0; o < full; o++) out[o] += in[o];
    else if (a.fx == 2)
      for (size_t o = 0; o < full; o++) out[o] += in[2 * o] + in[2 * o + 1];
    else
      for (size_t o = 0; o < full; o++) {
        double s = 0;
        for (size_t k = 0; k < a.fx; k++) s += in[o * a.fx + k];
        out[o] += s;
      }
    for (size_t x = full * a.fx; x < a.nx; x++) out[full] += in[x];
  }
  return NULL;
}

// A mean as a Uint16Array element takes it in JS (ECMAScript ToUint16 of an integral value):
// NaN and infinities 0, anything else modulo 2^16. A mean of uint16 voxels always lies in
// [0, 65535]; the rest is for sums no pyramid makes, where a bare C cast would be undefined.
static inline uint16_t to_uint16(double v) {
  if (v >= 0 && v < 65536) return (uint16_t)v;
  if (!isfinite(v)) return 0;
  double m = fmod(v, 65536.0);
  return (uint16_t)(m < 0 ? m + 65536.0 : m);
}

// takeBlockMeans(acc: Float64Array, divisor: number, out: Uint16Array): out[i] = floor(acc[i] /
// divisor) for every sum, then the sums cleared for the next output plane.
static napi_value take_block_means(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  double *acc = NULL;
  uint16_t *out = NULL;
  size_t acc_length = 0, out_length = 0;
  size_t divisor = 0;
  if (argc < 3 || !elements_of(env, argv[0], napi_float64_array, (void **)&acc, &acc_length) ||
      !elements_of(env, argv[2], napi_uint16_array, (void **)&out, &out_length))
    return fail(env, napi_throw_type_error, "takeBlockMeans: takes (acc: Float64Array, divisor, out: Uint16Array)");
  if (!dimension_of(env, argv[1], &divisor))
    return fail(env, napi_throw_range_error, "takeBlockMeans: divisor must be a positive integer");
  if (out_length < acc_length)
    return fail(env, napi_throw_range_error, "takeBlockMeans: out is shorter than acc");
  double d = (double)divisor;
  for (size_t i = 0; i < acc_length; i++) out[i] = to_uint16(floor(acc[i] / d));
  if (acc_length > 0) memset(acc, 0, acc_length * sizeof *acc);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor properties[] = {
      {"addPlaneBlockSums", NULL, add_plane_block_sums, NULL, NULL, NULL, napi_default, NULL},
      {"addSumPlaneBlockSums", NULL, add_sum_plane_block_sums, NULL, NULL, NULL, napi_default, NULL},
      {"takeBlockMeans", NULL, take_block_means, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  return exports;
}
