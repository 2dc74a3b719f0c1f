#!/usr/bin/python3
"""Writes test input stacks with numpy/tifffile (independent of our readers).

  make_stacks.py SPEC.json   SPEC = [{path, shape, seed, format: npy|raw|tiff, dtype?, fortran?,
                                      npy_version?: [major, minor], compression? (tiff)}]
Values are uniformly random uint16 (full range, so the int16 reinterpretation is exercised).
"""
import json
import sys

import numpy as np


def main():
    with open(sys.argv[1]) as fh:
        items = json.load(fh)
    for item in items:
        rng = np.random.default_rng(item.get("seed", 0))
        dtype = item.get("dtype", "<u2")
        hi = 256 if np.dtype(dtype).itemsize == 1 else 65536
        stack = rng.integers(0, hi, size=item["shape"], dtype=np.uint32).astype(dtype)
        fmt = item.get("format", "npy")
        if fmt == "npy":
            array = np.asfortranarray(stack) if item.get("fortran") else stack
            with open(item["path"], "wb") as fh:
                np.lib.format.write_array(fh, array, version=tuple(item.get("npy_version", (1, 0))))
        elif fmt == "raw":
            stack.tofile(item["path"])
        elif fmt == "tiff":
            import tifffile
            tifffile.imwrite(item["path"], stack.astype(np.uint16), compression=item.get("compression"))
        else:
            sys.exit(f"unknown format {fmt}")


if __name__ == "__main__":
    main()
