#!/usr/bin/env bash
# Installs and starts what the test suite needs beyond npm packages, only where missing:
#   - Debian python3-h5py, python3-tifffile, python3-numpy: the independent reader/writer the
#     tests check our files with (at /usr/bin/python3, which has them on Debian);
#   - hdf5-tools (h5dump, h5diff);
#   - util-linux's fincore (what a file has in the page cache: the flush thread's test, ADR 027;
#     Debian always has util-linux, a slim image may not have fincore);
#   - Debian chromium, the headless browser the status page's e2e test drives (puppeteer-core)
#     and `npm run docs:images` screenshots the page with;
#   - emscripten (emcc), to check that libs/bdv/plugins is the build of libs/bdv/plugins-src;
#   - a C compiler and libdeflate-dev, for libs/bdv's gzip binding (scripts/build-native.mjs,
#     docs/adr/020): the build makes it, and the tests check gzip through it and through zlib;
#   - a Redis server on REDIS_URL's host/port (default 127.0.0.1:6379) for the e2e tests;
#   - a Compose implementation (Debian docker-compose, unless the docker compose plugin exists) and
#     kubectl (Debian kubernetes-client) to validate docker-compose.yml and render k8s/ — neither
#     needs a Docker engine or a cluster.
# The S3-protocol server (s3rver) comes from npm and is started by the tests themselves.
# Idempotent; uses sudo when not root. Safe to run on every CI start.
set -euo pipefail

need=()
/usr/bin/python3 -c 'import h5py, numpy' 2>/dev/null || need+=(python3-h5py python3-numpy)
/usr/bin/python3 -c 'import tifffile' 2>/dev/null || need+=(python3-tifffile)
command -v h5dump >/dev/null 2>&1 || need+=(hdf5-tools)
command -v fincore >/dev/null 2>&1 || need+=(util-linux)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# emcc rebuilds libs/bdv's LZF plugin so a test can compare it with the committed .so (~30 s).
command -v emcc >/dev/null 2>&1 || need+=(emscripten)
command -v cc >/dev/null 2>&1 || need+=(gcc libc6-dev)
[ -f /usr/include/libdeflate.h ] || need+=(libdeflate-dev)
docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v kubectl >/dev/null 2>&1 || need+=(kubernetes-client)
redis_up() { (exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\r\n' >&3 && read -r -t 2 line <&3 && [[ "$line" == *PONG* ]]) 2>/dev/null; }
if [ -z "${REDIS_URL:-}" ] && ! redis_up; then
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
fi

if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "install-test-deps: installing ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ -z "${REDIS_URL:-}" ] && ! redis_up; then
  echo "install-test-deps: starting redis-server on 127.0.0.1:6379"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 1 50); do redis_up && break; sleep 0.1; done
fi
/usr/bin/python3 -c 'import h5py; print("install-test-deps: h5py", h5py.__version__, "HDF5", h5py.version.hdf5_version)'
redis_up && echo "install-test-deps: redis answers on 127.0.0.1:6379" || echo "install-test-deps: using REDIS_URL=${REDIS_URL:-}" 
