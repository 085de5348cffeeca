#!/usr/bin/env bash
# Installs the Debian 12 packages custody needs and builds it into build/.
# Usage: [BUILD_TARGETS="t1 t2"] scripts/setup.sh [cmake -D options...]
# BUILD_TARGETS limits the build to those targets (and what they need);
# without it everything is built: the node, the tools, tests and benches.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  cmake g++ make pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev liburing-dev libabsl-dev libssl-dev openssl
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev   # JSON output and the CLI parser
  tzdata   # IANA time zones: custodyd/custody-ingestd --time-zone (absl reads /usr/share/zoneinfo)
  libcpp-httplib-dev   # HTTP(S): /metrics and the web console (custody-web)
  libjs-chart.js       # the console's charts, served by custody-web itself (no CDN)
  fonts-droid-fallback # a font with Chinese characters, served by custody-web itself
  # The cluster's control plane (doc/etcd.md): etcd's v3 .proto files, from
  # which the build generates its C++ client, and etcd itself for clusters of
  # more than one node (a single node needs none).
  golang-etcd-server-dev etcd-server etcd-client
  # The Python client (client/python) and its test: gRPC's Python runtime, the
  # same versions as the C++ libraries (its code is generated with protoc and
  # protobuf-compiler-grpc's grpc_python_plugin).
  python3 python3-grpcio python3-protobuf
)
# More packages for one caller (scripts/test.sh: clang-format), installed in
# the same apt-get run.
read -r -a EXTRA <<< "${CUSTODY_EXTRA_PACKAGES:-}"
PACKAGES+=("${EXTRA[@]}")

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

BUILD_DIR=${BUILD_DIR:-build}
# -g1: line tables and function names (backtraces, perf) without full
# debug info, which made each compile ~25% slower and the binaries 6x larger.
# Pass -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g -DNDEBUG" for gdb sessions.
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCUSTODY_WERROR=ON "$@" >/dev/null
if [[ -n "${BUILD_TARGETS:-}" ]]; then
  # shellcheck disable=SC2086  # a list of target names
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target $BUILD_TARGETS
else
  cmake --build "$BUILD_DIR" -j"$(nproc)"
fi
