#!/usr/bin/env bash
# Starts, stops or shows a local cluster of three custodyd nodes on
# 127.0.0.1 (two zones), each with its own data folder, for trying the
# cluster on one machine.
#   deploy/local-cluster.sh start [DIR]    # DIR defaults to ./local-cluster
#   deploy/local-cluster.sh status [DIR]
#   deploy/local-cluster.sh stop [DIR]     # SIGTERM, then waits; data folders are kept
# Ports: nodes 7401-7403, metrics 9401-9403. Needs build/custodyd and build/custody.
set -euo pipefail
cd "$(dirname "$0")/.."
CMD=${1:-}
DIR=${2:-$PWD/local-cluster}
BIN=$PWD/build

write_map() {
  cat >"$DIR/cluster.json" <<JSON
{
  "version": 1,
  "replication_factor": 2,
  "nodes": [
    {"id": "n1", "address": "127.0.0.1:7401", "zone": "room-a"},
    {"id": "n2", "address": "127.0.0.1:7402", "zone": "room-b"},
    {"id": "n3", "address": "127.0.0.1:7403", "zone": "room-a"}
  ]
}
JSON
}

pid_of() { cat "$DIR/n$1.pid" 2>/dev/null || true; }
alive() { local p; p=$(pid_of "$1"); [[ -n $p ]] && kill -0 "$p" 2>/dev/null; }

start() {
  mkdir -p "$DIR"
  [[ -f $DIR/cluster.json ]] || write_map
  for i in 1 2 3; do
    if alive $i; then echo "n$i already running (pid $(pid_of $i))"; continue; fi
    nohup "$BIN/custodyd" --data "$DIR/n$i" --cluster "$DIR/cluster.json" --node-id "n$i" \
      --metrics-listen "127.0.0.1:940$i" --insecure-loopback >"$DIR/n$i.log" 2>&1 &
    echo $! >"$DIR/n$i.pid"
  done
  for i in 1 2 3; do
    for _ in $(seq 100); do "$BIN/custody" --server "127.0.0.1:740$i" status >/dev/null 2>&1 && break; sleep 0.1; done
    "$BIN/custody" --server "127.0.0.1:740$i" status >/dev/null 2>&1 ||
      { echo "n$i did not start:"; tail -5 "$DIR/n$i.log"; exit 1; }
  done
  status
}

status() {
  for i in 1 2 3; do
    if alive $i; then
      echo "n$i: up, pid $(pid_of $i), 127.0.0.1:740$i, metrics http://127.0.0.1:940$i/metrics"
    else
      echo "n$i: down"
    fi
  done
}

stop() {
  for i in 1 2 3; do
    if alive $i; then kill -TERM "$(pid_of $i)"; fi
  done
  for i in 1 2 3; do
    for _ in $(seq 100); do alive $i || break; sleep 0.1; done
    if alive $i; then echo "n$i did not stop"; else rm -f "$DIR/n$i.pid"; fi
  done
  status
}

case "$CMD" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status [DIR]" >&2; exit 2 ;;
esac
