#!/usr/bin/env bash
# Sets up, builds and runs every test: unit and integration tests (real
# custodyd processes on 127.0.0.1), then the unit tests again under
# ASan+UBSan and the concurrent ones under TSan.
# Usage: scripts/test.sh [--no-sanitizers]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

export TEST_TMPDIR=${TEST_TMPDIR:-/var/tmp}
echo "== unit and integration tests"
(cd build && ctest --output-on-failure -j2 --timeout 900)

if [[ "${1:-}" != "--no-sanitizers" ]]; then
  echo "== unit tests under ASan + UBSan"
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j"$(nproc)" --target custody_unit_tests
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    build-asan/tests/custody_unit_tests
  echo "== concurrent unit tests under TSan"
  cmake --preset tsan >/dev/null
  cmake --build --preset tsan -j"$(nproc)" --target custody_unit_tests
  TSAN_OPTIONS=halt_on_error=1 build-tsan/tests/custody_unit_tests \
    --gtest_filter='*Committer*:*Upload*'
fi
echo "== all tests passed"
