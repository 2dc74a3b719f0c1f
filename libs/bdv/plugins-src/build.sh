#!/bin/sh
# Builds the optional-LZF HDF5 filter plugin for h5wasm into ../plugins/ (npm run build:plugins).
# Needs Debian's emscripten (apt-get install emscripten; built and tested with 3.1.6). The output is
# committed: users and the image need no compiler. HDF5 tries to load every file of a plugin folder,
# so ../plugins must hold this .so only.
set -eu
cd "$(dirname "$0")"
# The wasm-opt installed beside emcc (Debian's binaryen), not the npm package's (a devDependency,
# used by scripts/route-deflate-to-node.mjs) that npm and npx put first on PATH: another wasm-opt
# writes other bytes, and the committed plugin is checked against a fresh build.
PATH="$(dirname "$(command -v emcc)"):$PATH"
out="${1:-../plugins/libH5Zlzf_optional.so}"
emcc -O3 -sSIDE_MODULE=2 -sWASM_BIGINT \
  -sEXPORTED_FUNCTIONS=_H5PLget_plugin_type,_H5PLget_plugin_info \
  -o "$out" h5z_lzf_optional.c
