#!/usr/bin/env bash
# Checks every #include "..." of the project's own headers against the
# layers of doc/architecture.md: a folder may include only the folders (or
# the named headers) below it. A new back edge fails here, and in ctest
# (LayeringTest.*).
# Usage: scripts/check_layers.sh [ROOT]       check ROOT (default: this repository)
#        scripts/check_layers.sh --self-test  shows that a back edge fails
set -euo pipefail

# folder (or file) -> the include prefixes it may use. The most specific
# entry wins. "*" allows everything (the wiring, tests, benches).
RULES=(
  "common/:common/ custody/"
  "client/:common/ client/ custody/"
  "ingest/:common/ client/ ingest/ custody/"
  "server/:common/ server/ custody/ replication/cluster_map.h replication/buckets.h"
  "server/main.cc:*"
  # Known back edges into the offsite layer (the snapshot source, and the
  # record book folding offsite receipts), to go when snapshots move to
  # replication/offsite (issue 23). No other may be added.
  "server/snapshot_source.cc:common/ server/ custody/ replication/cluster_map.h replication/snapshot_format.h"
  "server/record_book.cc:common/ server/ custody/ replication/snapshot_format.h"
  "replication/:common/ server/ replication/ custody/"
  "bench/:*"
  "tests/:*"
)
PROJECT_PREFIXES="common/ client/ ingest/ server/ replication/ custody/ bench/ tests/"

allowed_for() {  # the allowed list of the longest rule that prefixes $1
  local file=$1 best="" list=""
  for rule in "${RULES[@]}"; do
    local key=${rule%%:*}
    if [[ $file == "$key"* && ${#key} -gt ${#best} ]]; then
      best=$key
      list=${rule#*:}
    fi
  done
  echo "$list"
}

check() {
  local root=$1 failures=0
  cd "$root"
  while IFS= read -r file; do
    local allowed
    allowed=$(allowed_for "$file")
    [[ $allowed == "*" ]] && continue
    while IFS= read -r inc; do
      local project=0 ok=0
      for p in $PROJECT_PREFIXES; do [[ $inc == "$p"* ]] && project=1; done
      ((project)) || continue
      for a in $allowed; do
        if [[ $a == */ ]]; then [[ $inc == "$a"* ]] && ok=1; else [[ $inc == "$a" ]] && ok=1; fi
      done
      if ((!ok)); then
        echo "check_layers: $file includes \"$inc\", which its layer may not use ($allowed)" >&2
        failures=$((failures + 1))
      fi
    done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$file")
  done < <(find common client ingest server replication -name '*.cc' -o -name '*.h' 2>/dev/null | sort)
  if ((failures)); then
    echo "check_layers: $failures include(s) against the layers (doc/architecture.md)" >&2
    return 1
  fi
  echo "check_layers: every include follows the layers"
}

if [[ ${1:-} == --self-test ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/common" "$tmp/server"
  printf '#include "common/digest.h"\n' > "$tmp/server/ok.cc"
  if ! (check "$tmp") >/dev/null 2>&1; then echo "self-test: a clean tree failed" >&2; exit 1; fi
  printf '#include "server/node.h"\n' > "$tmp/common/back_edge.cc"
  if (check "$tmp") >/dev/null 2>&1; then echo "self-test: a back edge passed" >&2; exit 1; fi
  echo "check_layers self-test: a clean tree passes, a back edge fails"
  exit 0
fi
check "${1:-$(cd "$(dirname "$0")/.." && pwd)}"
