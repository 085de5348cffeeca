#!/usr/bin/env bash
# Checks every #include "..." of the project's own headers against the
# layers of doc/architecture.md: a folder may include only the folders (or
# the named headers) below it. A new back edge fails here, and in ctest
# (LayeringTest.*).
# Usage: scripts/check_layers.sh [ROOT]       check ROOT (default: this repository)
#        scripts/check_layers.sh --self-test  shows that a back edge fails
set -euo pipefail

# The server's layers, bottom up (doc/architecture.md, "Layers"): each may
# include itself and every layer below it, never one above.
SERVER_LAYERS=(
  common/
  replication/etcd/
  server/storage/
  server/audit/
  server/security/
  replication/cluster/
  server/objects/
  server/records/
  server/node
  replication/offsite/
  replication/witness/
  server/services/
)

# folder (or file) -> the include prefixes it may use. The most specific
# entry wins. "*" allows everything (the wiring, tests, benches).
RULES=(
  "client/:common/ client/ custody/v1/"
  "ingest/:common/ client/ ingest/ custody/v1/"
  # custodyd's wiring: its flags, the daemon that serves the node, main.
  "server/main.cc:*"
  "server/daemon:*"
  "server/record_flags.h:*"
  "bench/:*"
  "tests/:*"
)
below="custody/"
for layer in "${SERVER_LAYERS[@]}"; do
  below="$below $layer"
  RULES+=("$layer:$below")
done
PROJECT_PREFIXES="common/ client/ ingest/ server/ replication/ custody/ bench/ tests/"
# A file directly in server/ or replication/ that is none of the above has no
# layer: it must be given one here.
RULES+=("server/:" "replication/:")

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
        [[ $inc == "$a"* ]] && ok=1
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
  # The public API stands alone: integrators generate from proto/custody/v1/.
  if grep -l 'import "custody/internal/' proto/custody/v1/*.proto 2>/dev/null; then
    echo "check_layers: a public proto (above) imports an internal one" >&2
    return 1
  fi
  echo "check_layers: every include follows the layers"
}

if [[ ${1:-} == --self-test ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/common" "$tmp/server/audit"
  printf '#include "common/digest.h"\n#include "server/storage/index.h"\n' > "$tmp/server/audit/ok.cc"
  if ! (check "$tmp") >/dev/null 2>&1; then echo "self-test: a clean tree failed" >&2; exit 1; fi
  printf '#include "server/security/ledger.h"\n' > "$tmp/server/audit/back_edge.cc"
  if (check "$tmp") >/dev/null 2>&1; then echo "self-test: a back edge passed" >&2; exit 1; fi
  rm "$tmp/server/audit/back_edge.cc"
  printf '#include "server/node.h"\n' > "$tmp/common/back_edge.cc"
  if (check "$tmp") >/dev/null 2>&1; then echo "self-test: a back edge into common passed" >&2; exit 1; fi
  rm "$tmp/common/back_edge.cc"
  mkdir -p "$tmp/client"
  printf '#include "custody/internal/v1/replica.pb.h"\n' > "$tmp/client/internal.cc"
  if (check "$tmp") >/dev/null 2>&1; then echo "self-test: a client using the internal API passed" >&2; exit 1; fi
  echo "check_layers self-test: a clean tree passes, a back edge fails"
  exit 0
fi
check "${1:-$(cd "$(dirname "$0")/.." && pwd)}"
