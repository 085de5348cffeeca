#!/usr/bin/env bash
# An offsite challenge's cost (issue 31): a plaintext custodyd and an offsite
# peer (custodyd --role offsite) on loopback, built in build/. The node holds
# COUNT chunks of 4 MiB (files of 16 MiB), synced to the peer; then a challenge of
# SAMPLES chunks at RATE reads SAMPLES x 4 MiB on each side, concurrently.
# The target: the challenge takes no longer than reading those chunks once,
# at the rate (SAMPLES x 4 MiB / RATE). Prints both, and the ratio, for RUNS
# challenges (each with a fresh seed; the first warms the page cache).
# Usage: bench/challenge_bench.sh [COUNT (1000)] [SAMPLES (1000)] [RATE (200MiB/s)] [RUNS (3)]
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-1000}
SAMPLES=${2:-1000}
RATE=${3:-200MiB/s}
RUNS=${4:-3}
B=build
mkdir -p "${CUSTODY_BENCH_DIR:-$PWD/bench-tmp}"
DIR=$(mktemp -d "${CUSTODY_BENCH_DIR:-$PWD/bench-tmp}/challenge-XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$DIR"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

NODE=127.0.0.1:$(port)
PEER=127.0.0.1:$(port)
$B/custodyd --data "$DIR/peer" --listen "$PEER" --role offsite --insecure-loopback >"$DIR/peer.log" 2>&1 &
PIDS+=($!)
$B/custodyd --data "$DIR/node" --listen "$NODE" --insecure-loopback >"$DIR/node.log" 2>&1 &
PIDS+=($!)
cli() { $B/custody --server "$NODE" "$@"; }
for _ in $(seq 100); do cli status >/dev/null 2>&1 && break; sleep 0.1; done

echo "storing $COUNT chunks of 4 MiB (files of 16 MiB) and syncing them to the peer"
for i in $(seq $(((COUNT + 3) / 4))); do
  head -c $((16 << 20)) /dev/urandom >"$DIR/f"
  cli put "$DIR/f" >/dev/null 2>&1
done
rm -f "$DIR/f"
cli offsite sync --peer "$PEER" >/dev/null

RATE_BYTES=$(python3 -c "
import re,sys
m=re.fullmatch(r'(\d+)(KiB|MiB|GiB)?(/s)?','$RATE')
print(int(m.group(1))*{None:1,'KiB':1<<10,'MiB':1<<20,'GiB':1<<30}[m.group(2)])")
for run in $(seq "$RUNS"); do
  out=$(cli offsite challenge --peer "$PEER" --samples "$SAMPLES" --rate "$RATE" --json)
  python3 - "$out" "$RATE_BYTES" "$run" <<'PY'
import json, sys
r = json.loads(sys.argv[1]); rate = int(sys.argv[2]); run = sys.argv[3]
once = r["bytes"] / rate
print(f"run {run}: ok={r['ok']} samples={r['samples']} of {r['population']}, "
      f"{r['bytes'] / 2**30:.2f} GiB each side; challenge {r['seconds']:.1f} s "
      f"(peer reading {r['peer_seconds']:.1f} s); one read at the rate {once:.1f} s; "
      f"ratio {r['seconds'] / once:.3f}")
PY
done
