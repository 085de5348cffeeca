#!/usr/bin/env bash
# Checks the layers at link level on a static build (the release build of
# scripts/test.sh): every symbol of namespace custody that a layer's library
# uses must be defined in that library or in one below it (doc/architecture.md,
# "Layers"). A call into a layer above fails here even when no #include shows
# it (a declaration repeated by hand). The `layering` preset checks the same
# with shared libraries and -Wl,--no-undefined, at the cost of a second build.
# Usage: scripts/check_links.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
# Bottom up, as in scripts/check_layers.sh.
LIBS=(
  proto/libcustody_proto.a
  proto/libcustody_internal_proto.a
  common/libcustody_common.a
  replication/etcd/libcustody_etcd.a
  server/storage/libcustody_storage.a
  server/audit/libcustody_audit.a
  server/security/libcustody_security.a
  replication/cluster/libcustody_cluster.a
  server/objects/libcustody_objects.a
  server/records/libcustody_records.a
  server/libcustody_node.a
  replication/offsite/libcustody_offsite.a
  replication/witness/libcustody_witness.a
  server/services/libcustody_services.a
)
defined_in() {  # custody symbols a library defines
  nm -C --defined-only "$BUILD/$1" 2>/dev/null | awk '$2 ~ /^[TtWwVvDdBbRru]$/' |
    cut -d' ' -f3- | grep 'custody::' | sort -u
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/below"
failures=0
for lib in "${LIBS[@]}"; do
  [[ -f $BUILD/$lib ]] || { echo "check_links: $BUILD/$lib is missing: build first" >&2; exit 1; }
  defined_in "$lib" >"$tmp/own"
  sort -u "$tmp/below" "$tmp/own" >"$tmp/known"
  nm -C --undefined-only "$BUILD/$lib" | sed 's/^ *U //' | grep 'custody::' | sort -u \
    >"$tmp/used" || true
  comm -23 "$tmp/used" "$tmp/known" >"$tmp/missing"
  if [[ -s $tmp/missing ]]; then
    echo "check_links: $lib uses what no layer below it defines:" >&2
    sed 's/^/  /' "$tmp/missing" | head -20 >&2
    failures=$((failures + 1))
  fi
  cp "$tmp/known" "$tmp/below"
done
if ((failures)); then
  echo "check_links: $failures librar(ies) reach above their layer (doc/architecture.md)" >&2
  exit 1
fi
echo "check_links: every library links only what is below it (${#LIBS[@]} libraries)"
