#!/usr/bin/env bash
# Installs what the test suite needs beyond npm packages, only where missing:
#   - Debian python3-h5py, python3-tifffile, python3-numpy: the independent reader/writer the
#     tests check our files with (at /usr/bin/python3, which has them on Debian);
#   - hdf5-tools (h5dump, h5diff).
# Idempotent; uses sudo when not root. Safe to run on every CI start.
set -euo pipefail

need=()
/usr/bin/python3 -c 'import h5py, numpy' 2>/dev/null || need+=(python3-h5py python3-numpy)
/usr/bin/python3 -c 'import tifffile' 2>/dev/null || need+=(python3-tifffile)
command -v h5dump >/dev/null 2>&1 || need+=(hdf5-tools)

if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "install-test-deps: installing ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
/usr/bin/python3 -c 'import h5py; print("install-test-deps: h5py", h5py.__version__, "HDF5", h5py.version.hdf5_version)'
