/*
 * SPDX-License-Identifier: MIT
 * Copyright (c) bdv-cluster contributors (see the repository's package.json "license").
 *
 * HDF5 LZF filter (id 32000) as an Emscripten side module for h5wasm, written for bdv-cluster.
 *
 * Why our own: h5wasm's create_dataset marks every filter H5Z_FLAG_MANDATORY, so the LZF plugin of
 * h5wasm-plugins fails the whole write ("H5Z_pipeline() filter returned failure") on a chunk that
 * does not shrink (noise, ramps). h5py registers LZF as an *optional* filter: such a chunk is
 * stored unfiltered and marked in the chunk's filter mask. This plugin does the same: set_local
 * re-adds the filter with H5Z_FLAG_OPTIONAL, and the encoder gives up (returns 0) when the output
 * would not be smaller than the chunk.
 *
 * Stream format and cd_values are h5py's LZF filter's ([4, 0x0105, chunk bytes]; the LZF format of
 * liblzf 1.5), so h5py, h5dump with the h5py plugin and BDV's LZF reader read what it writes. The
 * codec below is an independent implementation of that format (no liblzf code). Self-contained: it
 * declares the few HDF5 types/functions it calls, all exported by h5wasm's main module.
 *
 * Build: libs/bdv/plugins-src/build.sh (Debian's emscripten).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

typedef int64_t hid_t;
typedef int herr_t;
typedef int htri_t;
typedef uint64_t hsize_t;
typedef int H5Z_filter_t;

#define H5Z_FILTER_LZF 32000
#define H5Z_FLAG_OPTIONAL 0x0001u
#define H5Z_FLAG_REVERSE 0x0100u
#define H5Z_CLASS_T_VERS 1
#define H5PL_TYPE_FILTER 0

extern herr_t H5Pget_filter_by_id2(hid_t plist_id, H5Z_filter_t id, unsigned *flags, size_t *cd_nelmts,
                                   unsigned cd_values[], size_t namelen, char name[], unsigned *filter_config);
extern herr_t H5Pmodify_filter(hid_t plist_id, H5Z_filter_t filter, unsigned flags, size_t cd_nelmts,
                               const unsigned cd_values[]);
extern int H5Pget_chunk(hid_t plist_id, int max_ndims, hsize_t dim[]);
extern size_t H5Tget_size(hid_t type_id);

typedef struct {
    int version;
    H5Z_filter_t id;
    unsigned encoder_present;
    unsigned decoder_present;
    const char *name;
    htri_t (*can_apply)(hid_t, hid_t, hid_t);
    herr_t (*set_local)(hid_t, hid_t, hid_t);
    size_t (*filter)(unsigned, size_t, const unsigned[], size_t, size_t *, void **);
} H5Z_class2_t;

/* ---- LZF codec (stream format of liblzf 1.5 / h5py) ---- */
#define HLOG 16
#define HSIZE (1u << HLOG)
#define MAX_OFF (1u << 13)
#define MAX_REF ((1u << 8) + (1u << 3)) /* 264 */
static uint32_t *htab; /* HSIZE entries, allocated on first use (keeps the .so small) */

static inline uint32_t load24(const uint8_t *p) { /* bytes p[0..2], little-endian */
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16);
}
static inline uint32_t hash24(uint32_t v) { return (v * 2654435761u) >> (32 - HLOG); }

/* Returns compressed length, or 0 if the output would not fit in out_len bytes. */
static size_t lzf_enc(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len) {
    const uint8_t *ip = in, *const in_end = in + in_len;
    uint8_t *op = out, *const out_end = out + out_len;
    uint8_t *lit_start; /* where the current literal run's bytes start (control byte at lit_start[-1]) */
    if (in_len == 0 || out_len < 2) return 0;
    if (!htab && !(htab = (uint32_t *)malloc(HSIZE * sizeof *htab))) return 0;
    uint32_t *const ht = htab; /* local copy: stores through op may alias the global */
    memset(ht, 0, HSIZE * sizeof *ht);
    op++;
    lit_start = op;
    uint32_t v = in_len > 2 ? load24(ip) : 0; /* rolling window ip[0..2] */
    while (ip + 2 < in_end) {
        uint32_t h = hash24(v);
        uint32_t pos = (uint32_t)(ip - in);
        uint32_t cand = ht[h];
        ht[h] = pos + 1;
        if (cand && pos - cand < MAX_OFF && load24(in + cand - 1) == v) {
            const uint8_t *ref = in + cand - 1;
            size_t off = pos - cand; /* distance - 1 */
            size_t maxlen = (size_t)(in_end - ip), len = 3, l, lit = (size_t)(op - lit_start);
            if (maxlen > MAX_REF) maxlen = MAX_REF;
            while (len < maxlen && ref[len] == ip[len]) len++;
            if (op + 4 > out_end) return 0; /* up to 3 bytes of back-reference + next control byte */
            if (lit) lit_start[-1] = (uint8_t)(lit - 1); else op--;
            l = len - 2;
            if (l < 7) {
                *op++ = (uint8_t)((off >> 8) + (l << 5));
            } else {
                *op++ = (uint8_t)((off >> 8) + (7 << 5));
                *op++ = (uint8_t)(l - 7);
            }
            *op++ = (uint8_t)off;
            op++;
            lit_start = op;
            ip += len;
            if (ip + 2 < in_end) { /* index the last two positions of the match */
                ht[hash24(load24(ip - 2))] = (uint32_t)(ip - 2 - in) + 1;
                ht[hash24(load24(ip - 1))] = (uint32_t)(ip - 1 - in) + 1;
                v = load24(ip);
            }
            continue;
        }
        if (op >= out_end) return 0;
        *op++ = *ip++;
        if (ip + 2 < in_end) v = (v >> 8) | ((uint32_t)ip[2] << 16);
        if (op - lit_start == 32) {
            lit_start[-1] = 31;
            if (op >= out_end) return 0;
            op++;
            lit_start = op;
        }
    }
    while (ip < in_end) {
        if (op >= out_end) return 0;
        *op++ = *ip++;
        if (op - lit_start == 32) {
            lit_start[-1] = 31;
            if (op >= out_end) return 0;
            op++;
            lit_start = op;
        }
    }
    if (op > lit_start) lit_start[-1] = (uint8_t)(op - lit_start - 1); else op--;
    return (size_t)(op - out);
}

/* Returns decompressed length; 0 and *too_small=1 if out_len is too small; 0 on corrupt input. */
static size_t lzf_dec(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len, int *too_small) {
    const uint8_t *ip = in, *const in_end = in + in_len;
    uint8_t *op = out, *const out_end = out + out_len;
    *too_small = 0;
    while (ip < in_end) {
        unsigned ctrl = *ip++;
        if (ctrl < 32) {
            size_t n = ctrl + 1;
            if ((size_t)(out_end - op) < n) { *too_small = 1; return 0; }
            if ((size_t)(in_end - ip) < n) return 0;
            memcpy(op, ip, n);
            op += n; ip += n;
        } else {
            size_t len = ctrl >> 5, back = ((size_t)(ctrl & 0x1f) << 8) + 1;
            const uint8_t *ref;
            if (ip >= in_end) return 0;
            if (len == 7) { len += *ip++; if (ip >= in_end) return 0; }
            back += *ip++;
            len += 2;
            if ((size_t)(out_end - op) < len) { *too_small = 1; return 0; }
            if (back > (size_t)(op - out)) return 0; /* reference before the start of the output */
            ref = op - back;
            while (len--) *op++ = *ref++; /* byte by byte: source and target may overlap */
        }
    }
    return (size_t)(op - out);
}

/* ---- HDF5 filter callbacks ---- */
static herr_t lzf_set_local(hid_t dcpl, hid_t type, hid_t space) {
    unsigned flags = 0, values[8] = {0};
    size_t nelements = 8, typesize, bufsize;
    hsize_t chunkdims[32];
    int ndims, i;
    (void)space;
    if (H5Pget_filter_by_id2(dcpl, H5Z_FILTER_LZF, &flags, &nelements, values, 0, NULL, NULL) < 0) return -1;
    if (nelements < 3) nelements = 3;
    if (values[0] == 0) values[0] = 4;      /* H5PY_FILTER_LZF_VERSION */
    if (values[1] == 0) values[1] = 0x0105; /* LZF_VERSION */
    ndims = H5Pget_chunk(dcpl, 32, chunkdims);
    if (ndims < 0 || ndims > 32) return -1;
    typesize = H5Tget_size(type);
    if (typesize == 0) return -1;
    bufsize = typesize;
    for (i = 0; i < ndims; i++) bufsize *= (size_t)chunkdims[i];
    values[2] = (unsigned)bufsize;
    return H5Pmodify_filter(dcpl, H5Z_FILTER_LZF, flags | H5Z_FLAG_OPTIONAL, nelements, values);
}

static size_t lzf_filter(unsigned flags, size_t cd_nelmts, const unsigned cd_values[], size_t nbytes,
                         size_t *buf_size, void **buf) {
    void *outbuf;
    size_t outsize, n;
    if (!(flags & H5Z_FLAG_REVERSE)) {
        /* Output no larger than the input: otherwise fail and let HDF5 store the chunk raw. */
        outsize = nbytes;
        outbuf = malloc(outsize);
        if (!outbuf) return 0;
        n = lzf_enc((const uint8_t *)*buf, nbytes, (uint8_t *)outbuf, outsize);
        if (n == 0) { free(outbuf); return 0; }
    } else {
        int too_small, tries = 0;
        outsize = (cd_nelmts >= 3 && cd_values[2] != 0) ? cd_values[2] : *buf_size;
        for (;;) {
            outbuf = malloc(outsize);
            if (!outbuf) return 0;
            n = lzf_dec((const uint8_t *)*buf, nbytes, (uint8_t *)outbuf, outsize, &too_small);
            if (n != 0) break;
            free(outbuf);
            if (!too_small || ++tries > 8) return 0;
            outsize *= 2;
        }
    }
    free(*buf);
    *buf = outbuf;
    *buf_size = outsize;
    return n;
}

static const H5Z_class2_t H5Z_LZF_OPTIONAL = {
    H5Z_CLASS_T_VERS, H5Z_FILTER_LZF, 1, 1,
    "lzf", NULL, lzf_set_local, lzf_filter,
};

int H5PLget_plugin_type(void) { return H5PL_TYPE_FILTER; }
const void *H5PLget_plugin_info(void) { return &H5Z_LZF_OPTIONAL; }
