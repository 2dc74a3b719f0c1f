// Small Node-API helpers shared by libs/bdv's bindings (bdv_deflate.c, bdv_memory.c).
#ifndef BDV_NAPI_HELPERS_H
#define BDV_NAPI_HELPERS_H

#include <node_api.h>
#include <stddef.h>

/** Throws a TypeError/RangeError/Error and returns NULL (what a failed call hands back to JS). */
static inline napi_value fail(napi_env env, napi_status (*throw_fn)(napi_env, const char *, const char *),
                              const char *message) {
  throw_fn(env, NULL, message);
  return NULL;
}

static inline napi_value number(napi_env env, double value) {
  napi_value result;
  napi_create_double(env, value, &result);
  return result;
}

/** The bytes of a Uint8Array argument (over an ArrayBuffer or a SharedArrayBuffer). */
static inline int bytes_of(napi_env env, napi_value value, unsigned char **data, size_t *length) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  void *pointer = NULL;
  if (napi_get_typedarray_info(env, value, &type, length, &pointer, NULL, NULL) != napi_ok) return 0;
  if (type != napi_uint8_array) return 0;
  *data = pointer;
  return 1;
}

#endif
