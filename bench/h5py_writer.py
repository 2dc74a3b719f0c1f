#!/usr/bin/python3
"""The h5py baseline: writes the same BDV layout as `bdv convert` (int16 cells, same chunks,
compression and pyramid, npy2bdv's zero-padded floor mean), streaming z-slabs from memory-mapped
.npy files so memory stays bounded like ours, then closes and fsyncs. Several inputs become
setups s00, s01, ... of one file, written one after the other (HDF5 is single-threaded).

  h5py_writer.py IN.npy[,IN2.npy,...] OUT.h5 COMPRESSION(none|gzip|lzf) SUBSAMPLING(1,1,1:2,4,4) BLOCK(4,256,256)
"""
import math
import os
import sys

import h5py
import numpy as np

sources, out, compression, subsampling, block = sys.argv[1:6]
levels = [tuple(int(v) for v in lvl.split(",")) for lvl in subsampling.split(":")]
chunk = tuple(int(v) for v in block.split(","))
comp = None if compression == "none" else compression


def write_view(f, setup, src):
    stack = np.load(src, mmap_mode="r")
    nz, ny, nx = stack.shape
    datasets = []
    for i, fac in enumerate(levels):
        shape = tuple(math.ceil(n / k) for n, k in zip(stack.shape, fac))
        datasets.append(f.create_dataset(f"t00000/s{setup:02d}/{i}/cells", shape=shape, dtype="<i2", chunks=chunk,
                                         maxshape=(None, None, None), compression=comp))
    step = chunk[0]
    for fac in levels:
        step = step * fac[0] // math.gcd(step, fac[0])
    step *= max(1, (16 << 20) // (step * ny * nx * 2))
    for z0 in range(0, nz, step):
        slab = np.asarray(stack[z0:z0 + step])
        for ds, fac in zip(datasets, levels):
            if fac == (1, 1, 1):
                ds[z0:z0 + slab.shape[0]] = slab.view("<i2")
                continue
            pad = [(0, (-n) % k) for n, k in zip(slab.shape, fac)]
            p = np.pad(slab, pad).astype(np.uint32)
            a, b, c = (s // k for s, k in zip(p.shape, fac))
            mean = p.reshape(a, fac[0], b, fac[1], c, fac[2]).sum(axis=(1, 3, 5)) // (fac[0] * fac[1] * fac[2])
            zo = z0 // fac[0]
            ds[zo:zo + mean.shape[0]] = mean.astype("<u2").view("<i2")


with h5py.File(out, "w") as f:
    inputs = sources.split(",")
    for setup in range(len(inputs)):
        for name, data, dtype in (("resolutions", [l[::-1] for l in levels], "<f8"), ("subdivisions", [chunk[::-1]] * len(levels), "<i4")):
            f.create_dataset(f"s{setup:02d}/{name}", data=np.array(data), dtype=dtype, maxshape=(None, 3))
    for setup, src in enumerate(inputs):
        write_view(f, setup, src)
fd = os.open(out, os.O_RDONLY)
os.fsync(fd)
os.close(fd)
