// Node-API binding for memory: asks Linux to back a thread's HDF5 heap (its wasm memory) with
// transparent huge pages (docs/adr/021), and copies a 3-D block of rows in one call (verification
// puts each inflated chunk into its slab with it, docs/adr/022). Built by scripts/build-native.mjs;
// loaded by libs/bdv/src/h5/native-memory.ts; libs/bdv does without it.
//
// Huge pages, why: a page fault on the benchmark VMs costs ~12 us, so the first touch of 4 KiB pages made
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

// A count or a byte offset from JS: a non-negative integer JS can hold exactly.
static int size_of(napi_env env, napi_value value, uint64_t *out) {
  double n = -1;
  if (napi_get_value_double(env, value, &n) != napi_ok || !(n >= 0) || n > 9007199254740991.0 || n != (double)(uint64_t)n)
    return 0;
  *out = (uint64_t)n;
  return 1;
}

// copyBlock(src, dst, dstOffset, planes, rows, rowBytes, srcRowStride, srcPlaneStride,
// dstRowStride, dstPlaneStride): copies `planes` x `rows` rows of `rowBytes` each from src (rows
// srcRowStride apart, planes srcPlaneStride apart, from its first byte) into dst from dstOffset
// (dstRowStride, dstPlaneStride). One call per chunk instead of a Buffer.copy per row: a 4,256,256
// chunk has 1,024 rows of 512 bytes, where a JS call costs more than its copy. Every byte read
// and written is checked to lie inside its array first; nothing is copied when one would not.
static napi_value copy_block(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  unsigned char *src = NULL, *dst = NULL;
  size_t src_length = 0, dst_length = 0;
  if (argc < 10 || !bytes_of(env, argv[0], &src, &src_length) || !bytes_of(env, argv[1], &dst, &dst_length))
    return fail(env, napi_throw_type_error, "copyBlock: src and dst must be Uint8Arrays");
  uint64_t n[8];
  for (int i = 0; i < 8; i++)
    if (!size_of(env, argv[i + 2], &n[i]))
      return fail(env, napi_throw_range_error, "copyBlock: offsets, counts and strides must be non-negative integers");
  uint64_t dst_offset = n[0], planes = n[1], rows = n[2], row_bytes = n[3];
  uint64_t src_row = n[4], src_plane = n[5], dst_row = n[6], dst_plane = n[7];
  if (planes == 0 || rows == 0 || row_bytes == 0) return number(env, 0);
  // Each term is below 2^53, so each product is below 2^106: checked in 128 bits, no overflow.
  unsigned __int128 src_end = (unsigned __int128)(planes - 1) * src_plane + (unsigned __int128)(rows - 1) * src_row + row_bytes;
  unsigned __int128 dst_end =
      dst_offset + (unsigned __int128)(planes - 1) * dst_plane + (unsigned __int128)(rows - 1) * dst_row + row_bytes;
  if (src_end > src_length || dst_end > dst_length)
    return fail(env, napi_throw_range_error, "copyBlock: the block does not fit in src or dst");
  for (uint64_t z = 0; z < planes; z++)
    for (uint64_t y = 0; y < rows; y++)
      memmove(dst + dst_offset + z * dst_plane + y * dst_row, src + z * src_plane + y * src_row, row_bytes);
  return number(env, (double)(planes * rows * row_bytes));
}

NAPI_MODULE_INIT() {
  napi_property_descriptor properties[] = {
      {"adviseHugePages", NULL, advise_huge_pages, NULL, NULL, NULL, napi_enumerable, NULL},
      {"copyBlock", NULL, copy_block, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
  return exports;
}
