// Node-API binding to libdeflate's zlib-format calls, for HDF5's gzip chunks, and its CRC-32 for
// level checksums (docs/adr/020).
// Whole buffers in, whole buffers out: a chunk is never streamed. Built by
// scripts/build-native.mjs; libs/bdv/src/h5/native-deflate.ts loads it and falls back to Node's
// zlib when it is absent. One libdeflate (de)compressor per level and per thread (per Node-API
// environment: a worker thread has its own), freed with the environment.
#define NAPI_VERSION 8
#include <libdeflate.h>
#include <node_api.h>
#include "napi_helpers.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define MAX_LEVEL 12

typedef struct {
  struct libdeflate_compressor *compressors[MAX_LEVEL + 1];
  struct libdeflate_decompressor *decompressor;
} Coders;

static void free_coders(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Coders *coders = data;
  for (int level = 0; level <= MAX_LEVEL; level++)
    if (coders->compressors[level]) libdeflate_free_compressor(coders->compressors[level]);
  if (coders->decompressor) libdeflate_free_decompressor(coders->decompressor);
  free(coders);
}

static Coders *coders_of(napi_env env) {
  void *data = NULL;
  if (napi_get_instance_data(env, &data) != napi_ok) return NULL;
  return data;
}

static int level_of(napi_env env, napi_value value, int *level) {
  int32_t n = -1;
  if (napi_get_value_int32(env, value, &n) != napi_ok || n < 0 || n > MAX_LEVEL) return 0;
  *level = n;
  return 1;
}

static struct libdeflate_compressor *compressor_for(napi_env env, int level) {
  Coders *coders = coders_of(env);
  if (!coders) return NULL;
  if (!coders->compressors[level]) coders->compressors[level] = libdeflate_alloc_compressor(level);
  return coders->compressors[level];
}

// compress(level, input: Uint8Array, output: Uint8Array): bytes written, 0 when they do not fit.
static napi_value compress(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int level;
  unsigned char *in, *out;
  size_t in_length, out_length;
  if (argc < 3) return fail(env, napi_throw_type_error, "compress: takes (level, input, output)");
  if (!level_of(env, argv[0], &level))
    return fail(env, napi_throw_range_error, "compress: level must be an integer 0..12");
  if (!bytes_of(env, argv[1], &in, &in_length) || !bytes_of(env, argv[2], &out, &out_length))
    return fail(env, napi_throw_type_error, "compress: input and output must be Uint8Arrays");
  struct libdeflate_compressor *compressor = compressor_for(env, level);
  if (!compressor) return fail(env, napi_throw_error, "compress: libdeflate could not allocate a compressor");
  return number(env, (double)libdeflate_zlib_compress(compressor, in, in_length, out, out_length));
}

// compressBound(level, bytes): the most compress() can write for `bytes` of input.
static napi_value compress_bound(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int level;
  double bytes = -1;
  if (argc < 2) return fail(env, napi_throw_type_error, "compressBound: takes (level, bytes)");
  if (!level_of(env, argv[0], &level))
    return fail(env, napi_throw_range_error, "compressBound: level must be an integer 0..12");
  if (napi_get_value_double(env, argv[1], &bytes) != napi_ok || !(bytes >= 0) || bytes > 9007199254740991.0)
    return fail(env, napi_throw_range_error, "compressBound: bytes must be a non-negative integer");
  struct libdeflate_compressor *compressor = compressor_for(env, level);
  if (!compressor) return fail(env, napi_throw_error, "compressBound: libdeflate could not allocate a compressor");
  return number(env, (double)libdeflate_zlib_compress_bound(compressor, (size_t)bytes));
}

// decompress(input: Uint8Array, output: Uint8Array): fills all of output or throws.
static napi_value decompress(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  unsigned char *in, *out;
  size_t in_length, out_length, written = 0;
  if (argc < 2 || !bytes_of(env, argv[0], &in, &in_length) || !bytes_of(env, argv[1], &out, &out_length))
    return fail(env, napi_throw_type_error, "decompress: input and output must be Uint8Arrays");
  Coders *coders = coders_of(env);
  if (coders && !coders->decompressor) coders->decompressor = libdeflate_alloc_decompressor();
  if (!coders || !coders->decompressor)
    return fail(env, napi_throw_error, "decompress: libdeflate could not allocate a decompressor");
  // libdeflate stops at the output's end: a stream that would grow past it fails here, unwritten.
  switch (libdeflate_zlib_decompress(coders->decompressor, in, in_length, out, out_length, &written)) {
    case LIBDEFLATE_SUCCESS:
      if (written == out_length) return NULL;
      return fail(env, napi_throw_error, "the stream inflates to fewer bytes than expected");
    case LIBDEFLATE_INSUFFICIENT_SPACE:
      return fail(env, napi_throw_error, "the stream inflates to more bytes than expected");
    default:
      return fail(env, napi_throw_error, "not a valid zlib stream");
  }
}

// crc32(value, input: Uint8Array): the CRC-32 (zlib's, gzip's) of input continuing from value.
// libdeflate's uses the CPU's carry-less multiply where it has one: ~2.7x zlib's on x86-64.
static napi_value crc32(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint32_t value;
  unsigned char *in;
  size_t in_length;
  if (argc < 2 || napi_get_value_uint32(env, argv[0], &value) != napi_ok || !bytes_of(env, argv[1], &in, &in_length))
    return fail(env, napi_throw_type_error, "crc32: takes (value, input: Uint8Array)");
  // An empty array may have no data pointer, for which libdeflate answers 0, not `value`.
  if (in_length == 0) return number(env, (double)value);
  return number(env, (double)libdeflate_crc32(value, in, in_length));
}

NAPI_MODULE_INIT() {
  Coders *coders = calloc(1, sizeof(Coders));
  if (!coders || napi_set_instance_data(env, coders, free_coders, NULL) != napi_ok) {
    free(coders);
    napi_throw_error(env, NULL, "bdv_deflate: cannot keep per-thread state");
    return NULL;
  }
  napi_property_descriptor properties[] = {
      {"compress", NULL, compress, NULL, NULL, NULL, napi_enumerable, NULL},
      {"compressBound", NULL, compress_bound, NULL, NULL, NULL, napi_enumerable, NULL},
      {"decompress", NULL, decompress, NULL, NULL, NULL, napi_enumerable, NULL},
      {"crc32", NULL, crc32, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
  napi_value version;
  napi_create_string_utf8(env, LIBDEFLATE_VERSION_STRING, NAPI_AUTO_LENGTH, &version);
  napi_set_named_property(env, exports, "version", version);
  return exports;
}
