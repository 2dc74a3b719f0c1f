// Node-API binding for memory: asks Linux to back a thread's HDF5 heap (its wasm memory) with
// transparent huge pages (docs/adr/021), copies a 3-D block of rows in one call (verification
// puts each inflated chunk into its slab with it, docs/adr/022), and maps a local input's bytes
// into a slab buffer of the heap instead of copying them in (docs/adr/024; a mapped file that
// shrinks under it is caught, not a SIGBUS that ends the process), and lets the page
// cache drop an output's pages once they are on disk (docs/adr/027). Built by
// scripts/build-native.mjs; loaded by libs/bdv/src/h5/native-memory.ts; libs/bdv does without it.
//
// Huge pages, why: a page fault on the benchmark VMs costs ~12 us, so the first touch of 4 KiB pages made
// reading a 32 MiB slab into fresh heap ~100 ms against ~3 ms into touched memory; with 2 MiB
// pages there are 512 times fewer faults. madvise(MADV_HUGEPAGE) is advice only: it changes no
// byte and no protection, and the kernel ignores it where THP is off ("never").
#define NAPI_VERSION 8
#define _DEFAULT_SOURCE
// File offsets (mmap, posix_fadvise) are 64-bit on every build, 32-bit ones too.
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <node_api.h>
#include "napi_helpers.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

// Linux 5.14; older headers lack it (the call then fails with EINVAL and pages fault in on use).
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

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

// Fresh anonymous memory (zeros, no huge-page advice) over [start, start + span).
static int map_anonymous(uintptr_t start, size_t span) {
  return mmap((void *)start, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0) !=
         MAP_FAILED;
}

// The whole pages inside [data, data + length): start and end, page-aligned (end <= start: none).
static void inner_pages(unsigned char *data, size_t length, uintptr_t *start, uintptr_t *end) {
  uintptr_t mask = (uintptr_t)sysconf(_SC_PAGESIZE) - 1;
  *start = ((uintptr_t)data + mask) & ~mask;
  *end = ((uintptr_t)data + length) & ~mask;
}

// A mapped page that the file no longer holds (something truncated the input after its pages
// were populated) raises SIGBUS when touched, which would end the process mid-view. Every mapping
// mapFile makes is listed here, and a SIGBUS inside one puts zeros over the rest of it and marks
// it lost: the thread carries on, and the reader refuses the slab (lostMappedBytes) before its
// view is kept. A SIGBUS anywhere else goes to the disposition that was there before ours.
#define MAPPINGS 256
typedef struct {
  _Atomic uintptr_t start; // 0: a free slot
  _Atomic uintptr_t end;   // 0 until the pages are mapped
  _Atomic uintptr_t owner; // the napi_env (thread) that mapped them: its slots go with it
  _Atomic int lost;
} Mapping;
static Mapping mappings[MAPPINGS];
static uintptr_t page_mask; // set before the handler is installed (sysconf is not signal-safe)
static struct sigaction previous_sigbus;
static atomic_flag sigbus_installing = ATOMIC_FLAG_INIT;

static void on_sigbus(int signal_number, siginfo_t *info, void *context);

/** What a SIGBUS that is not one of our mappings' gets: whatever was there before ours. */
static void pass_on(int signal_number, siginfo_t *info, void *context) {
  int fault = info != NULL && info->si_code > 0; // raised by the kernel for an access, not sent
  if (previous_sigbus.sa_flags & SA_SIGINFO) {
    if (previous_sigbus.sa_sigaction != NULL) {
      previous_sigbus.sa_sigaction(signal_number, info, context);
      return;
    }
  } else if (previous_sigbus.sa_handler == SIG_IGN) {
    // An ignored SIGBUS that was sent stays ignored; a fault cannot be (Linux would kill anyway).
    if (!fault) return;
  } else if (previous_sigbus.sa_handler != SIG_DFL) {
    previous_sigbus.sa_handler(signal_number);
    return;
  }
  // The default: the process ends, as it did before us. The fault recurs once this returns; a
  // sent signal is raised again.
  struct sigaction fallback;
  memset(&fallback, 0, sizeof fallback);
  fallback.sa_handler = SIG_DFL;
  sigemptyset(&fallback.sa_mask);
  sigaction(signal_number, &fallback, NULL);
  if (!fault) raise(signal_number);
}

static void on_sigbus(int signal_number, siginfo_t *info, void *context) {
  int saved_errno = errno;
  if (info != NULL && info->si_code > 0) {
    uintptr_t address = (uintptr_t)info->si_addr;
    for (int i = 0; i < MAPPINGS; i++) {
      uintptr_t start = atomic_load(&mappings[i].start), end = atomic_load(&mappings[i].end);
      // Read again: a slot freed and taken meanwhile must not pair one mapping's start with
      // another's end.
      if (start == 0 || address < start || address >= end || atomic_load(&mappings[i].start) != start) continue;
      // The file ends before this page, so it ends before every later one: zeros over all of them
      // (one signal, not one a page). The faulting access then reads zeros when it runs again.
      uintptr_t page = address & ~page_mask;
      if (mmap((void *)page, end - page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_NORESERVE,
               -1, 0) == MAP_FAILED)
        break;
      atomic_store(&mappings[i].lost, 1);
      errno = saved_errno;
      return;
    }
  }
  pass_on(signal_number, info, context);
  errno = saved_errno;
}

/**
 * Makes on_sigbus the process's SIGBUS handler (shared by every thread's binding), keeping what
 * was there as the disposition for SIGBUS that are not ours. Asked at every mapFile: a handler
 * installed after ours (a `process.on('SIGBUS')`, another library) would otherwise leave our
 * mappings unguarded. 0 when it cannot be installed.
 */
static int install_sigbus(void) {
  while (atomic_flag_test_and_set(&sigbus_installing)) {
  }
  struct sigaction current;
  int ours = sigaction(SIGBUS, NULL, &current) == 0 && (current.sa_flags & SA_SIGINFO) &&
             current.sa_sigaction == on_sigbus;
  if (!ours) {
    page_mask = (uintptr_t)sysconf(_SC_PAGESIZE) - 1;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&action.sa_mask);
    struct sigaction replaced;
    if (sigaction(SIGBUS, &action, &replaced) == 0) {
      previous_sigbus = replaced;
      ours = 1;
    }
  }
  atomic_flag_clear(&sigbus_installing);
  return ours;
}

static void forget_mapping(Mapping *slot) {
  atomic_store(&slot->end, 0);
  atomic_store(&slot->lost, 0);
  atomic_store(&slot->owner, 0);
  atomic_store(&slot->start, 0);
}

/**
 * Forgets every listed mapping over any byte of [start, end): a slot left by a mapping that was
 * never given back (its thread ended mid-view) must not claim memory that holds something else.
 */
static void forget_mappings_over(uintptr_t start, uintptr_t end) {
  for (int i = 0; i < MAPPINGS; i++) {
    uintptr_t slot_start = atomic_load(&mappings[i].start);
    if (slot_start == 0) continue;
    uintptr_t slot_end = atomic_load(&mappings[i].end);
    // A slot being set up (end still 0) overlaps if its start lies in the range.
    if (slot_start < end && (slot_end == 0 ? slot_start >= start : slot_end > start)) forget_mapping(&mappings[i]);
  }
}

/** A free slot claimed for a mapping over pages from `start` by `env`; NULL: none left. */
static Mapping *claim_mapping(uintptr_t start, napi_env env) {
  for (int i = 0; i < MAPPINGS; i++) {
    uintptr_t free_slot = 0;
    if (atomic_compare_exchange_strong(&mappings[i].start, &free_slot, start)) {
      atomic_store(&mappings[i].owner, (uintptr_t)env);
      return &mappings[i];
    }
  }
  return NULL;
}

/** The slot listing the mapping over pages from `start`, or NULL. */
static Mapping *mapping_at(uintptr_t start) {
  for (int i = 0; i < MAPPINGS; i++)
    if (atomic_load(&mappings[i].start) == start) return &mappings[i];
  return NULL;
}

/** A thread's environment is going away (its worker ended or was terminated): its slots go too. */
static void forget_env_mappings(void *env) {
  for (int i = 0; i < MAPPINGS; i++)
    if (atomic_load(&mappings[i].start) != 0 && atomic_load(&mappings[i].owner) == (uintptr_t)env)
      forget_mapping(&mappings[i]);
}

// mapFile(view: Uint8Array, fd: number, position: number, bytes: number): where in `view` the
// `bytes` bytes of file `fd` from `position` now are (an offset below two pages), or -1 when they
// cannot be mapped there (the view lacks the room to line the file's pages up with its own, or
// the file refuses mmap: a pipe, some FUSE file systems); the caller then reads them instead.
// The mapping is private and writable: a write to it copies the page (never reaches the file), so
// code that swaps bytes in place still works. It replaces whole pages inside the view only; give
// them back to anonymous memory with unmapFile before the view's memory is used for anything else.
// Pages are not read here (see populateMapped): this call does no I/O.
static napi_value map_file(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  unsigned char *data = NULL;
  size_t length = 0;
  uint64_t fd = 0, position = 0, bytes = 0;
  if (argc < 4 || !bytes_of(env, argv[0], &data, &length))
    return fail(env, napi_throw_type_error, "mapFile: takes (view: Uint8Array, fd, position, bytes)");
  if (!size_of(env, argv[1], &fd) || fd > INT32_MAX || !size_of(env, argv[2], &position) || !size_of(env, argv[3], &bytes))
    return fail(env, napi_throw_range_error, "mapFile: fd, position and bytes must be non-negative integers");
  if (bytes == 0 || data == NULL) return number(env, -1);
  uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
  uint64_t lead = position % page; // bytes of the file's first page before `position`
  uint64_t span = (lead + bytes + page - 1) / page * page;
  uintptr_t start, end;
  inner_pages(data, length, &start, &end);
  if (end <= start || span > (uint64_t)(end - start)) return number(env, -1);
  // Unguarded (no handler, or more mappings at once than slots), a shrunk file would end the
  // process: the caller reads instead. Whatever was listed over these pages is replaced.
  forget_mappings_over(start, start + span);
  Mapping *slot = install_sigbus() ? claim_mapping(start, env) : NULL;
  if (slot == NULL) return number(env, -1);
  void *mapped = mmap((void *)start, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, (int)fd, (off_t)(position - lead));
  // A failed MAP_FIXED may already have unmapped the range: put anonymous memory back.
  if (mapped == MAP_FAILED) {
    map_anonymous(start, span);
    forget_mapping(slot);
    return number(env, -1);
  }
  atomic_store(&slot->end, start + span);
  return number(env, (double)(start - (uintptr_t)data + lead));
}

// The whole pages of a call's one argument, a Uint8Array (end <= start: none, also for an empty
// or detached one); 0 after throwing `usage` when the argument is not one.
static int view_pages(napi_env env, napi_callback_info info, const char *usage, uintptr_t *start, uintptr_t *end) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  unsigned char *data = NULL;
  size_t length = 0;
  if (argc < 1 || !bytes_of(env, argv[0], &data, &length)) {
    fail(env, napi_throw_type_error, usage);
    return 0;
  }
  *start = *end = 0;
  if (data != NULL) inner_pages(data, length, start, end);
  return 1;
}

// unmapFile(view: Uint8Array): puts fresh anonymous memory (zeros) back over every whole page
// inside `view`, whatever mapFile put there; the bytes replaced. Huge-page advice does not carry
// over to the new pages: give it again (adviseHugePages) where wanted.
static napi_value unmap_file(napi_env env, napi_callback_info info) {
  uintptr_t start, end;
  if (!view_pages(env, info, "unmapFile: takes (view: Uint8Array)", &start, &end)) return NULL;
  if (end <= start) return number(env, 0);
  if (!map_anonymous(start, end - start))
    return fail(env, napi_throw_error, "unmapFile: mmap of anonymous memory failed");
  forget_mappings_over(start, end);
  return number(env, (double)(end - start));
}

// lostMappedBytes(view: Uint8Array): true when a page mapFile mapped into `view` was found gone
// from the file since (SIGBUS, caught: those pages and the ones after them read as zeros). Ask
// after the last use of the bytes and before unmapFile or the next mapFile over the same view.
static napi_value lost_mapped_bytes(napi_env env, napi_callback_info info) {
  uintptr_t start, end;
  if (!view_pages(env, info, "lostMappedBytes: takes (view: Uint8Array)", &start, &end)) return NULL;
  Mapping *slot = end <= start ? NULL : mapping_at(start);
  napi_value result;
  napi_get_boolean(env, slot != NULL && atomic_load(&slot->lost), &result);
  return result;
}

// listedMappings(): how many mappings are listed (guarded) now, in every thread of the process:
// for tests and diagnostics (a number that only grows means mappings never given back).
static napi_value listed_mappings(napi_env env, napi_callback_info info) {
  (void)info;
  int count = 0;
  for (int i = 0; i < MAPPINGS; i++)
    if (atomic_load(&mappings[i].start) != 0) count++;
  return number(env, count);
}

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  uintptr_t start;
  size_t span;
  int populate; // 0: read ahead into the page cache only (prefetchMapped)
  int error;
} Population;

static void populate_execute(napi_env env, void *data) {
  (void)env;
  Population *p = data;
  // Readahead of the whole slab first: faults alone read a cold file in readahead-window pieces
  // (512 MiB from a dropped cache: 1.36 s without this, 1.14 s with it, 1.33 s read by pread).
  // Advice only: it maps no page, so what it reads counts in the page cache, not in our memory.
  madvise((void *)p->start, p->span, MADV_WILLNEED);
  if (!p->populate) return;
  p->error = madvise((void *)p->start, p->span, MADV_POPULATE_READ) == 0 ? 0 : errno;
  // EINVAL: a kernel before 5.14. Nothing is read ahead; the pages fault in when first used.
  if (p->error == EINVAL) p->error = 0;
}

static void populate_complete(napi_env env, napi_status status, void *data) {
  Population *p = data;
  if (status == napi_ok && p->error == 0) {
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, p->deferred, undefined);
  } else {
    napi_value message, code, error;
    const char *text = status != napi_ok ? "populating the mapped bytes was cancelled"
                       : p->error == EFAULT ? "mapped bytes lie past the end of the file (it shrank?)"
                                            : strerror(p->error);
    napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message);
    napi_create_string_utf8(env, p->error == EFAULT ? "EFAULT" : "EIO", NAPI_AUTO_LENGTH, &code);
    napi_create_error(env, code, message, &error);
    napi_reject_deferred(env, p->deferred, error);
  }
  napi_delete_async_work(env, p->work);
  free(p);
}

// populateMapped and prefetchMapped: checks the arguments and queues the madvise calls on libuv's
// pool; a Promise settled by populate_complete.
static napi_value on_pool(napi_env env, napi_callback_info info, int populate) {
  const char *name_text = populate ? "populateMapped" : "prefetchMapped";
  char message[96];
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  unsigned char *data = NULL;
  size_t length = 0;
  uint64_t offset = 0, bytes = 0;
  if (argc < 3 || !bytes_of(env, argv[0], &data, &length)) {
    snprintf(message, sizeof message, "%s: takes (view: Uint8Array, offset, bytes)", name_text);
    return fail(env, napi_throw_type_error, message);
  }
  if (!size_of(env, argv[1], &offset) || !size_of(env, argv[2], &bytes) || offset + bytes > length || data == NULL) {
    snprintf(message, sizeof message, "%s: the bytes must lie inside the view", name_text);
    return fail(env, napi_throw_range_error, message);
  }
  napi_value promise, name;
  napi_deferred deferred;
  napi_create_promise(env, &deferred, &promise);
  Population *p = bytes == 0 ? NULL : calloc(1, sizeof *p);
  if (p != NULL) {
    uintptr_t mask = (uintptr_t)sysconf(_SC_PAGESIZE) - 1;
    p->deferred = deferred;
    p->start = ((uintptr_t)data + offset) & ~mask;
    p->span = (((uintptr_t)data + offset + bytes + mask) & ~mask) - p->start;
    p->populate = populate;
    napi_create_string_utf8(env, populate ? "bdv.populateMapped" : "bdv.prefetchMapped", NAPI_AUTO_LENGTH, &name);
    if (napi_create_async_work(env, NULL, name, populate_execute, populate_complete, p, &p->work) == napi_ok) {
      if (napi_queue_async_work(env, p->work) == napi_ok) return promise;
      napi_delete_async_work(env, p->work);
    }
    free(p);
  }
  // Nothing to populate, or no way to do it off this thread: the pages fault in when used.
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  napi_resolve_deferred(env, deferred, undefined);
  return promise;
}

// populateMapped(view: Uint8Array, offset: number, bytes: number): a Promise that resolves once
// the pages under view[offset, offset + bytes) are in memory and mapped (MADV_WILLNEED, then
// MADV_POPULATE_READ, on libuv's pool: a file not in the page cache is read from disk there, not
// by the thread that later uses the slab). Rejects (code EFAULT) when the file no longer covers
// them: the caller then refuses the slab instead of touching pages that would raise SIGBUS.
static napi_value populate_mapped(napi_env env, napi_callback_info info) { return on_pool(env, info, 1); }

// prefetchMapped(view: Uint8Array, offset: number, bytes: number): a Promise that resolves once
// Linux was asked (MADV_WILLNEED, on libuv's pool) to read the file's pages under
// view[offset, offset + bytes) into the page cache, without mapping them: they count against the
// page cache, not this process's memory, until populateMapped maps them. Rejects only when the
// work is cancelled (the environment is going away).
static napi_value prefetch_mapped(napi_env env, napi_callback_info info) { return on_pool(env, info, 0); }

// dropCachedPages(fd: number, offset = 0, length = 0): asks Linux to drop the file's clean pages
// in [offset, offset + length) (length 0: to the end) from the page cache (posix_fadvise
// DONTNEED): 0, or the errno it refused with. The flush thread calls it right after an fdatasync
// (the pages it drops are the ones just written back), verification behind each slab it read.
// Why: a page freed at once is the next write's or read's page; one kept makes every later one
// take a fresh page, which on a VM whose host took free memory back costs up to ~40x
// (docs/adr/027). Dirty pages are left alone (Linux starts their writeback and keeps them):
// advice, never data.
static napi_value drop_cached_pages(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint64_t fd = 0, range[2] = {0, 0}; // offset, length (0: to the end)
  if (argc < 1 || !size_of(env, argv[0], &fd) || fd > INT32_MAX)
    return fail(env, napi_throw_type_error, "dropCachedPages: takes (fd, offset?, length?): non-negative integers");
  for (size_t i = 1; i < argc && i < 3; i++) {
    napi_valuetype type;
    if (napi_typeof(env, argv[i], &type) != napi_ok) return NULL;
    if (type == napi_undefined) continue; // left out: its default
    if (!size_of(env, argv[i], &range[i - 1]))
      return fail(env, napi_throw_type_error, "dropCachedPages: takes (fd, offset?, length?): non-negative integers");
  }
  // size_of bounds both by 2^53: they fit a 64-bit off_t.
  return number(env, (double)posix_fadvise((int)fd, (off_t)range[0], (off_t)range[1], POSIX_FADV_DONTNEED));
}

NAPI_MODULE_INIT() {
  napi_add_env_cleanup_hook(env, forget_env_mappings, env);
  napi_property_descriptor properties[] = {
      {"adviseHugePages", NULL, advise_huge_pages, NULL, NULL, NULL, napi_enumerable, NULL},
      {"copyBlock", NULL, copy_block, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mapFile", NULL, map_file, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unmapFile", NULL, unmap_file, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lostMappedBytes", NULL, lost_mapped_bytes, NULL, NULL, NULL, napi_enumerable, NULL},
      {"listedMappings", NULL, listed_mappings, NULL, NULL, NULL, napi_enumerable, NULL},
      {"populateMapped", NULL, populate_mapped, NULL, NULL, NULL, napi_enumerable, NULL},
      {"prefetchMapped", NULL, prefetch_mapped, NULL, NULL, NULL, napi_enumerable, NULL},
      {"dropCachedPages", NULL, drop_cached_pages, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
  return exports;
}
