#!/usr/bin/env bash
# Starts, stops or shows a local cluster of three custodyd nodes on
# 127.0.0.1 (two zones), each with its own data folder, and beside them a
# 3-member etcd (Debian's etcd-server; doc/etcd.md) that the nodes use for
# archive numbers, for trying the cluster on one machine.
#   deploy/local-cluster.sh start [DIR]    # DIR defaults to ./local-cluster
#   deploy/local-cluster.sh status [DIR]
#   deploy/local-cluster.sh stop [DIR]     # SIGTERM, then waits; data folders are kept
# Ports: nodes 7401-7403, metrics 9401-9403, etcd clients 2401-2403 and
# peers 2501-2503. Needs build/custodyd, build/custody and /usr/bin/etcd.
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

pid_of() { cat "$DIR/$1.pid" 2>/dev/null || true; }
alive() { local p; p=$(pid_of "$1"); [[ -n $p ]] && kill -0 "$p" 2>/dev/null; }
ETCD=127.0.0.1:2401,127.0.0.1:2402,127.0.0.1:2403

start_etcd() {
  local peers=e1=http://127.0.0.1:2501,e2=http://127.0.0.1:2502,e3=http://127.0.0.1:2503
  for i in 1 2 3; do
    if alive e$i; then continue; fi
    nohup /usr/bin/etcd --name "e$i" --data-dir "$DIR/etcd-$i" \
      --listen-client-urls "http://127.0.0.1:240$i" --advertise-client-urls "http://127.0.0.1:240$i" \
      --listen-peer-urls "http://127.0.0.1:250$i" --initial-advertise-peer-urls "http://127.0.0.1:250$i" \
      --initial-cluster "$peers" --initial-cluster-state new --initial-cluster-token custody-local \
      >"$DIR/etcd-$i.log" 2>&1 &
    echo $! >"$DIR/e$i.pid"
  done
}

start() {
  mkdir -p "$DIR"
  [[ -f $DIR/cluster.json ]] || write_map
  start_etcd
  for i in 1 2 3; do
    if alive n$i; then echo "n$i already running (pid $(pid_of n$i))"; continue; fi
    nohup "$BIN/custodyd" --data "$DIR/n$i" --cluster "$DIR/cluster.json" --node-id "n$i" \
      --etcd "$ETCD" --metrics-listen "127.0.0.1:940$i" --insecure-loopback >"$DIR/n$i.log" 2>&1 &
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
    if alive n$i; then
      echo "n$i: up, pid $(pid_of n$i), 127.0.0.1:740$i, metrics http://127.0.0.1:940$i/metrics"
    else
      echo "n$i: down"
    fi
  done
  for i in 1 2 3; do
    if alive e$i; then echo "etcd e$i: up, pid $(pid_of e$i), 127.0.0.1:240$i"; else echo "etcd e$i: down"; fi
  done
}

stop() {
  for p in n1 n2 n3 e1 e2 e3; do  # the nodes first, then etcd
    if alive $p; then kill -TERM "$(pid_of $p)"; fi
    [[ $p == n3 ]] && for q in n1 n2 n3; do for _ in $(seq 100); do alive $q || break; sleep 0.1; done; done
  done
  for p in n1 n2 n3 e1 e2 e3; do
    for _ in $(seq 100); do alive $p || break; sleep 0.1; done
    if alive $p; then echo "$p did not stop"; else rm -f "$DIR/$p.pid"; fi
  done
  status
}

case "$CMD" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status [DIR]" >&2; exit 2 ;;
esac
