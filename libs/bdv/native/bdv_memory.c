// Node-API binding that asks Linux to back a thread's HDF5 heap (its wasm memory) with
// transparent huge pages (docs/adr/021). Built by scripts/build-native.mjs; loaded by
// libs/bdv/src/h5/huge-pages.ts, which does without it.
//
// Why: a page fault on the benchmark VMs costs ~12 us, so the first touch of 4 KiB pages made
// reading a 32 MiB slab into fresh heap ~100 ms against ~3 ms into touched memory; with 2 MiB
// pages there are 512 times fewer faults. madvise(MADV_HUGEPAGE) is advice only: it changes no
// byte and no protection, and the kernel ignores it where THP is off ("never").
#define NAPI_VERSION 8
#define _DEFAULT_SOURCE
#include <errno.h>
#include <node_api.h>
#include "napi_helpers.h"
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

// A wasm32 memory spans at most 4 GiB: a larger span cannot be a heap's reservation.
#define MAX_SPAN (4.0 * 1024 * 1024 * 1024)

// adviseHugePages(heap: Uint8Array, span: number): the bytes advised (whole pages from heap's
// first byte over `span` bytes), 0 when none could be. `span` may exceed heap.length: a wasm
// memory is one reservation of its maximum size, so advice given before it grows covers the
// pages it grows into, which no view can reach yet. Throws on misuse; an madvise the kernel
// refuses (no THP support: EINVAL) is not an error, only no advice.
static napi_value advise_huge_pages(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t length = 0;
  unsigned char *data = NULL;
  double span = -1;
  if (argc < 2 || !bytes_of(env, argv[0], &data, &length))
    return fail(env, napi_throw_type_error, "adviseHugePages: takes (heap: Uint8Array, span: number)");
  if (napi_get_value_double(env, argv[1], &span) != napi_ok || !(span >= (double)length) || span > MAX_SPAN)
    return fail(env, napi_throw_range_error, "adviseHugePages: span must cover the heap and be at most 4 GiB");
  long page = sysconf(_SC_PAGESIZE);
  if (page <= 0 || data == NULL) return number(env, 0);
  uintptr_t mask = (uintptr_t)page - 1;
  uintptr_t start = ((uintptr_t)data + mask) & ~mask;
  uintptr_t end = ((uintptr_t)data + (uintptr_t)span) & ~mask;
  if (end <= start) return number(env, 0);
  // ENOMEM: part of the range is not mapped; Linux still advised every mapped part of it.
  if (madvise((void *)start, end - start, MADV_HUGEPAGE) != 0 && errno != ENOMEM) return number(env, 0);
  return number(env, (double)(end - start));
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "adviseHugePages", NAPI_AUTO_LENGTH, advise_huge_pages, NULL, &fn);
  napi_set_named_property(env, exports, "adviseHugePages", fn);
  return exports;
}
