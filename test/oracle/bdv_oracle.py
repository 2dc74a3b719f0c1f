#!/usr/bin/python3
"""Independent oracle for bdv-cluster tests: reads what we wrote with h5py and ElementTree, and
recomputes every pyramid level from the raw inputs with numpy (npy2bdv's semantics: zero-padded
block mean, floor, uint16 bits stored as int16). Prints JSON; never imports project code.

  bdv_oracle.py describe FILE.h5 [FILE.xml]    structure of the h5 and the parsed XML
  bdv_oracle.py compare SPEC.json              pixel comparison; SPEC = {h5, subsampling_zyx,
                                               views: [{time, setup, npy | raw: {path, shape, dtype}}]}
"""
import json
import sys
import xml.etree.ElementTree as ET

import h5py
import numpy as np


def dataset_info(d):
    return {
        "dtype": d.dtype.str,
        "shape": list(d.shape),
        "chunks": list(d.chunks) if d.chunks else None,
        "compression": d.compression,
        "compression_opts": d.compression_opts,
        "maxshape": [m if m is not None else -1 for m in d.maxshape],
    }


def describe_h5(path):
    out = {"datasets": {}, "values": {}, "attrs": {}}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if len(obj.attrs):
                out["attrs"][name] = list(obj.attrs.keys())
            if isinstance(obj, h5py.Dataset):
                out["datasets"][name] = dataset_info(obj)
                if name.endswith("resolutions") or name.endswith("subdivisions"):
                    out["values"][name] = obj[()].tolist()
        f.visititems(visit)
        # visititems does not follow external links: list them too
        for t in [k for k in f.keys() if k.startswith("t")]:
            for s in f[t].keys():
                for lvl in f[t][s].keys():
                    link = f[t][s][lvl].get("cells", getlink=True)
                    if isinstance(link, h5py.ExternalLink):
                        name = f"{t}/{s}/{lvl}/cells"
                        out["datasets"][name] = dataset_info(f[name])
                        out["datasets"][name]["external"] = link.filename
    return out


def element(e):
    node = {"tag": e.tag, "attrib": dict(e.attrib), "text": (e.text or "").strip(), "children": []}
    node["children"] = [element(c) for c in e]
    return node


def expected_level(stack, f):
    f = tuple(int(v) for v in f)
    if f == (1, 1, 1):
        return stack.astype(np.uint16)
    pad = [(0, (-n) % k) for n, k in zip(stack.shape, f)]
    padded = np.pad(stack.astype(np.int64), pad)
    nz, ny, nx = (s // k for s, k in zip(padded.shape, f))
    blocks = padded.reshape(nz, f[0], ny, f[1], nx, f[2]).sum(axis=(1, 3, 5))
    return (blocks // (f[0] * f[1] * f[2])).astype(np.uint16)


def load_view(v):
    if "npy" in v:
        return np.load(v["npy"]).astype(np.uint16)
    raw = v["raw"]
    return np.fromfile(raw["path"], dtype=raw["dtype"]).reshape(raw["shape"]).astype(np.uint16)


def compare(spec):
    report = {"views": []}
    with h5py.File(spec["h5"], "r") as f:
        for v in spec["views"]:
            stack = load_view(v)
            levels = []
            for level, factors in enumerate(spec["subsampling_zyx"]):
                name = f"t{v['time']:05d}/s{v['setup']:02d}/{level}/cells"
                got = f[name][()]
                want = expected_level(stack, factors)
                same_shape = list(got.shape) == list(want.shape)
                mismatches = int(np.count_nonzero(got.view(np.uint16) != want)) if same_shape else -1
                levels.append({"level": level, "dtype": got.dtype.str, "shape": list(got.shape),
                               "expected_shape": list(want.shape), "mismatches": mismatches})
            report["views"].append({"time": v["time"], "setup": v["setup"], "levels": levels})
    return report


def main():
    cmd = sys.argv[1]
    if cmd == "describe":
        out = {"h5": describe_h5(sys.argv[2])}
        if len(sys.argv) > 3:
            out["xml"] = element(ET.parse(sys.argv[3]).getroot())
        print(json.dumps(out))
    elif cmd == "compare":
        with open(sys.argv[2]) as fh:
            print(json.dumps(compare(json.load(fh))))
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
