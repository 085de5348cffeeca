#!/usr/bin/env bash
# The main job on a fresh machine: set up, build, and start a TLS node on the
# default data folder (./custody-data, port 7400) with the people of a small
# agency (./custody-data.people: a CA, their certificates). Then: an officer
# stores a sample file; an archive-head and a leader approve her request to
# view it (decisions signed with their own keys); she gets it back verified;
# its audit trail is shown, exported with proofs and verified offline; a
# docking station ingests a recording into a record. Last, the web console
# starts beside the node. The node and the console keep running.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_TARGETS="custodyd custody custody-ingestd custody-web" bash scripts/setup.sh  # only what it runs

DATA=${CUSTODY_DATA:-$PWD/custody-data}
PEOPLE=$DATA.people
ADDR=${CUSTODY_SERVER:-127.0.0.1:7400}
WEB=${CUSTODY_WEB:-127.0.0.1:8443}
export CUSTODY_SERVER=$ADDR
CLI=build/custody
as() { local who=$1; shift; $CLI --tls "$PEOPLE/$who" "$@"; }

if [[ ! -d $PEOPLE ]]; then
  echo "demo: a CA and the people of agency DEMO in $PEOPLE (keep ca/ca.key offline in real use)"
  $CLI ca init "$PEOPLE/ca" >/dev/null
  $CLI ca issue --ca "$PEOPLE/ca" --node n1 --host 127.0.0.1 -o "$PEOPLE/n1" >/dev/null
  $CLI ca issue --ca "$PEOPLE/ca" --console demo --host 127.0.0.1 -o "$PEOPLE/console" >/dev/null
  for p in "olga officer DEMO" "arch archivist DEMO" "hank archive-head" "lena leader DEMO" \
           "aud auditor" "station ingest DEMO"; do
    read -r name role agency <<<"$p"
    $CLI ca issue --ca "$PEOPLE/ca" --user "$name" --role "$role" ${agency:+--agency "$agency"} \
      -o "$PEOPLE/$name" >/dev/null
  done
fi

if ! as olga status >/dev/null 2>&1; then
  echo "demo: starting custodyd on $ADDR with data folder $DATA (log: $DATA.log)"
  nohup build/custodyd --data "$DATA" --listen "$ADDR" --tls "$PEOPLE/n1" >"$DATA.log" 2>&1 &
  for _ in $(seq 100); do as olga status >/dev/null 2>&1 && break; sleep 0.1; done
  as olga status >/dev/null || { cat "$DATA.log"; exit 1; }
fi

mkdir -p demo-files
SAMPLE=demo-files/inspection-$(date +%Y%m%d-%H%M%S).mp4
head -c $((64 * 1024 * 1024)) /dev/urandom >"$SAMPLE"
echo "demo: sample footage $SAMPLE, sha256sum says:"
sha256sum "$SAMPLE"

ID=$(as olga put "$SAMPLE" --meta officer=olga --meta device=cam-01 --meta agency=DEMO)
echo "demo: stored as $ID"
as olga put "$SAMPLE"  # the same bytes again: already stored, nothing sent or written twice
echo "demo: viewing needs a request and two approvals (article 21)"
REQ=$(as olga access request "$ID" --reason "demo: review of the inspection" --json |
  sed -n 's/.*"request": *"\([0-9a-f]*\)".*/\1/p')
as hank access approve "$REQ"   # an archive-head
as lena access approve "$REQ"   # a leader of agency DEMO
as olga get "$ID" -o "$SAMPLE.back"
cmp "$SAMPLE" "$SAMPLE.back" && echo "demo: read back bit-exact"
echo "demo: stat"
as olga stat "$ID"
echo "demo: node status"
as olga status
echo "demo: the object's audit trail (an auditor's view)"
as aud audit log "$ID"
echo "demo: the node's signed checkpoint"
as aud audit checkpoint --fresh
BUNDLE=$SAMPLE.audit
as aud audit export "$ID" -o "$BUNDLE"
echo "demo: verifying $BUNDLE offline (no server), with the footage itself"
$CLI audit verify "$BUNDLE" --file "$SAMPLE" --pubkey "$DATA/node.key.pub"
as aud audit verify-node

# A docking station: a camera's file and its sidecar land in a device folder,
# custody-ingestd moves it into custody and releases it to done/. The camera
# is registered to agency DEMO, so its footage is filed under a record.
as arch device list | grep -q '^CAM-01 ' || as arch device add CAM-01 --agency DEMO --model body-cam
STATION=demo-station
mkdir -p "$STATION/CAM-01"
NAME=interview-$(date +%Y%m%d-%H%M%S).mp4
head -c $((16 * 1024 * 1024)) /dev/urandom >"$STATION/CAM-01/$NAME.part"
cat >"$STATION/CAM-01/$NAME.json" <<JSON
{"officers": ["olga"], "matter": 4, "target": "shop-17", "stage": "inspection",
 "start": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"}
JSON
mv "$STATION/CAM-01/$NAME.part" "$STATION/CAM-01/$NAME"  # docking finished
echo "demo: docked $STATION/CAM-01/$NAME; running custody-ingestd (log: $STATION.log)"
build/custody-ingestd --watch "$STATION" --server "$ADDR" --tls "$PEOPLE/station" --settle 1 \
  --poll 0.2 >"$STATION.log" 2>&1 &
INGESTD=$!
for _ in $(seq 300); do [ -f "$STATION/done/CAM-01/$NAME" ] && break; sleep 0.1; done
kill $INGESTD && wait $INGESTD || true
[ -f "$STATION/done/CAM-01/$NAME" ] || { cat "$STATION.log"; exit 1; }
build/custody-ingestd status --watch "$STATION"
REC_ID=sha256:$(sha256sum "$STATION/done/CAM-01/$NAME" | cut -d' ' -f1)
echo "demo: ingested as $REC_ID; its audit trail:"
as aud audit log "$REC_ID"
echo "demo: the records of CAM-01 (doc/records.md)"
as arch record list --device CAM-01

if ! pgrep -f "custody-web --listen $WEB" >/dev/null; then
  nohup build/custody-web --listen "$WEB" --server "$ADDR" --tls "$PEOPLE/console" \
    >"$DATA.web.log" 2>&1 &
  sleep 0.5
fi
echo "demo: the web console: https://$WEB/ (doc/console.md). Trust $PEOPLE/ca/ca.pem in the"
echo "      browser, and sign in with a person's cert.pem and key.pem, e.g. $PEOPLE/olga/."
echo "demo: custodyd keeps running on $ADDR (stop: pkill -f 'custodyd --data $DATA'; pkill custody-web)"
