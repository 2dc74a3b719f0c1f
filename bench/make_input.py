#!/usr/bin/python3
"""Writes a benchmark input .npy of shape (nz, ny, nx) uint16, slab by slab (bounded memory).
Camera-like content: offset 100, a smooth specimen-shaped signal and shot noise, so gzip sees
realistic (not random, not constant) data.   make_input.py OUT.npy NZ NY NX"""
import sys

import numpy as np

out, nz, ny, nx = sys.argv[1], *map(int, sys.argv[2:5])
rng = np.random.default_rng(7)
yy, xx = np.mgrid[0:ny, 0:nx]
blob = np.exp(-(((yy - ny / 2) / (ny / 3)) ** 2 + ((xx - nx / 2) / (nx / 3)) ** 2))
with open(out, "wb") as fh:
    np.lib.format.write_array_header_1_0(fh, {"descr": "<u2", "fortran_order": False, "shape": (nz, ny, nx)})
    for z in range(nz):
        signal = 100 + 1500 * blob * (0.6 + 0.4 * np.sin(z / 17.0))
        plane = rng.poisson(signal).astype("<u2")
        fh.write(plane.tobytes())
