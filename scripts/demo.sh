#!/usr/bin/env bash
# The main job on a fresh machine: set up, build, start a node on the default
# data folder (./custody-data, port 7400), put a sample file it generates,
# get it back verified, print its id, stat and audit trail, export the trail
# with proofs and verify it offline; then dock a recording in a station folder
# and let custody-ingestd ingest it. The node keeps running.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_TARGETS="custodyd custody custody-ingestd" bash scripts/setup.sh  # only what it runs

DATA=${CUSTODY_DATA:-$PWD/custody-data}
ADDR=${CUSTODY_SERVER:-127.0.0.1:7400}
export CUSTODY_SERVER=$ADDR
CLI=build/custody

if ! $CLI status >/dev/null 2>&1; then
  echo "demo: starting custodyd on $ADDR with data folder $DATA (log: $DATA.log)"
  nohup build/custodyd --data "$DATA" --listen "$ADDR" --insecure-loopback >"$DATA.log" 2>&1 &
  for _ in $(seq 100); do $CLI status >/dev/null 2>&1 && break; sleep 0.1; done
  $CLI status >/dev/null || { cat "$DATA.log"; exit 1; }
fi

mkdir -p demo-files
SAMPLE=demo-files/inspection-$(date +%Y%m%d-%H%M%S).mp4
head -c $((64 * 1024 * 1024)) /dev/urandom >"$SAMPLE"
echo "demo: sample footage $SAMPLE, sha256sum says:"
sha256sum "$SAMPLE"

ID=$($CLI put "$SAMPLE" --meta officer=demo-officer --meta device=cam-01 --meta matter=1)
echo "demo: stored as $ID"
$CLI get "$ID" -o "$SAMPLE.back"
cmp "$SAMPLE" "$SAMPLE.back" && echo "demo: read back bit-exact"
$CLI put "$SAMPLE"  # the same bytes again: already stored, nothing written twice
echo "demo: stat"
$CLI stat "$ID"
echo "demo: objects on the node"
$CLI ls
echo "demo: node status"
$CLI status
echo "demo: the object's audit trail"
$CLI audit log "$ID"
echo "demo: the node's signed checkpoint"
$CLI audit checkpoint --fresh
BUNDLE=$SAMPLE.audit
$CLI audit export "$ID" -o "$BUNDLE"
echo "demo: verifying $BUNDLE offline (no server), with the footage itself"
$CLI audit verify "$BUNDLE" --file "$SAMPLE" --pubkey "$DATA/node.key.pub"
$CLI audit verify-node

# A docking station: a camera's file and its sidecar land in a device folder,
# custody-ingestd moves it into custody and releases it to done/. The camera
# is registered to an agency, so its footage is filed under a record.
$CLI device list | grep -q '^CAM-01 ' || $CLI device add CAM-01 --agency DEMO --model body-cam
STATION=demo-station
mkdir -p "$STATION/CAM-01"
NAME=interview-$(date +%Y%m%d-%H%M%S).mp4
head -c $((16 * 1024 * 1024)) /dev/urandom >"$STATION/CAM-01/$NAME.part"
cat >"$STATION/CAM-01/$NAME.json" <<JSON
{"officers": ["demo-officer"], "matter": 4, "target": "shop-17", "stage": "inspection",
 "start": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"}
JSON
mv "$STATION/CAM-01/$NAME.part" "$STATION/CAM-01/$NAME"  # docking finished
echo "demo: docked $STATION/CAM-01/$NAME; running custody-ingestd (log: $STATION.log)"
build/custody-ingestd --watch "$STATION" --server "$ADDR" --settle 1 --poll 0.2 >"$STATION.log" 2>&1 &
INGESTD=$!
for _ in $(seq 300); do [ -f "$STATION/done/CAM-01/$NAME" ] && break; sleep 0.1; done
kill $INGESTD && wait $INGESTD || true
[ -f "$STATION/done/CAM-01/$NAME" ] || { cat "$STATION.log"; exit 1; }
build/custody-ingestd status --watch "$STATION"
REC_ID=sha256:$(sha256sum "$STATION/done/CAM-01/$NAME" | cut -d' ' -f1)
echo "demo: ingested as $REC_ID; its audit trail:"
$CLI audit log "$REC_ID"
echo "demo: the records of CAM-01 (doc/records.md)"
$CLI record list --device CAM-01
echo "demo: custodyd keeps running on $ADDR (stop it with: pkill -f 'custodyd --data $DATA')"
