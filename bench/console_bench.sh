#!/usr/bin/env bash
# The web console's playback figures (issue 25), on loopback, against a TLS
# custodyd and custody-web built in build/:
#   - first frame: the time to the first ranged response of 4 MiB of a 2 GiB
#     recording (a Range request, as <video> makes), in a new playback: each
#     run has its own playback id, so the figure includes the object.read
#     audit event (durable before the bytes go) that a new viewing pays;
#   - seek: the time to 4 MiB at 80% of it, in that same playback (already
#     audited, as a seek in a <video> is);
#   - a full download through the console (a new playback too), against
#     `custody get` of the same object and `openssl dgst -sha256` of the file,
#     in the same run.
# Each figure is the median of RUNS (default 5) after one untimed warm-up run.
# Usage: bench/console_bench.sh [SIZE_MIB (default 2048)] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB=${1:-2048}
RUNS=${2:-5}
B=build
DIR=$(mktemp -d "${CUSTODY_BENCH_DIR:-$PWD/bench-tmp}/console-XXXXXX" 2>/dev/null ||
      { mkdir -p bench-tmp; mktemp -d "$PWD/bench-tmp/console-XXXXXX"; })
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$DIR"; }
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

$B/custody ca init "$DIR/ca" >/dev/null
$B/custody ca issue --ca "$DIR/ca" --node n1 --host 127.0.0.1 -o "$DIR/n1" >/dev/null
$B/custody ca issue --ca "$DIR/ca" --console bench --host 127.0.0.1 -o "$DIR/console" >/dev/null
for u in "olga officer A" "hank archive-head" "lena leader A"; do
  set -- $u
  $B/custody ca issue --ca "$DIR/ca" --user "$1" --role "$2" ${3:+--agency $3} -o "$DIR/$1" >/dev/null
done
NODE=127.0.0.1:$(port)
$B/custodyd --data "$DIR/data" --listen "$NODE" --tls "$DIR/n1" >"$DIR/node.log" 2>&1 &
PIDS+=($!)
cli() { local u=$1; shift; $B/custody --server "$NODE" --tls "$DIR/$u" "$@"; }
for _ in $(seq 100); do cli olga status >/dev/null 2>&1 && break; sleep 0.1; done
$B/custody-web --listen 127.0.0.1:0 --server "$NODE" --tls "$DIR/console" \
  --port-file "$DIR/web.port" >"$DIR/web.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [[ -s $DIR/web.port ]] && break; sleep 0.1; done
WEB=https://127.0.0.1:$(cat "$DIR/web.port")

FILE=$DIR/recording.mp4
echo "console_bench: writing $SIZE_MIB MiB of test footage"
head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom >"$FILE"
ID=$(cli olga put "$FILE" --meta device=D1 2>/dev/null)
REC=$(cli olga record create --agency A --matter 3 --target bench --stage interview \
  --officer o1 --device D1 --start 2026-12-01T09:00:00Z --end 2026-12-01T10:00:00Z --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
cli olga record attach "$REC" "$ID" --kind video >/dev/null
REQ=$(cli olga access request --record "$REC" --reason bench --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["request"])')
cli hank access approve "$REQ" >/dev/null
cli lena access approve "$REQ" >/dev/null

# Sign in as the page does: the console's statement, signed with olga's key.
CURL=(curl -sS --cacert "$DIR/ca/ca.pem")
"${CURL[@]}" -X POST "$WEB/api/signin/challenge" -H 'Content-Type: application/json' \
  -d "$(python3 -c 'import json,sys; print(json.dumps({"certificate_pem": open(sys.argv[1]).read()}))' "$DIR/olga/cert.pem")" |
  python3 -c 'import json,sys; sys.stdout.write(json.load(sys.stdin)["statement"])' >"$DIR/statement"
openssl dgst -sha256 -sign "$DIR/olga/key.pem" -out "$DIR/statement.sig" "$DIR/statement"
python3 - "$DIR" >"$DIR/signin.json" <<'PY'
import base64, json, sys
d = sys.argv[1]
print(json.dumps({"statement": open(f"{d}/statement").read(),
                  "signature": base64.b64encode(open(f"{d}/statement.sig", "rb").read()).decode(),
                  "certificate_pem": open(f"{d}/olga/cert.pem").read()}))
PY
COOKIE=$("${CURL[@]}" -D - -o /dev/null -X POST "$WEB/api/signin/certificate" \
  -H 'Content-Type: application/json' --data-binary @"$DIR/signin.json" |
  sed -n 's/^Set-Cookie: \(custody_session=[^;]*\).*/\1/Ip')
[[ -n $COOKIE ]] || { echo "console_bench: sign-in failed"; cat "$DIR/web.log"; exit 1; }

URL="$WEB/api/objects/$ID/content?playback="  # + a playback id (a viewing)
SIZE=$((SIZE_MIB * 1024 * 1024))
FOUR=$((4 * 1024 * 1024))
AT=$((SIZE * 8 / 10))
ranged() {  # seconds to fetch bytes $1-$2 in playback $3
  "${CURL[@]}" -o /dev/null -w '%{time_total}\n' -H "Cookie: $COOKIE" -r "$1-$2" "$URL$3"
}
full() { "${CURL[@]}" -o /dev/null -w '%{time_total}\n' -H "Cookie: $COOKIE" "$URL$1"; }
get() {
  rm -f "$DIR/got"
  /usr/bin/time -f '%e' -o "$DIR/t" $B/custody --server "$NODE" --tls "$DIR/olga" \
    get "$ID" -o "$DIR/got" >/dev/null 2>&1
  cat "$DIR/t"
}
dgst() { /usr/bin/time -f '%e' -o "$DIR/t" openssl dgst -sha256 "$FILE" >/dev/null; cat "$DIR/t"; }

ranged 0 $((FOUR - 1)) warm >/dev/null; full warm-full >/dev/null; get >/dev/null; dgst >/dev/null  # warm-up
first=() seek=() web=() cli_get=() ref=()
for i in $(seq "$RUNS"); do  # alternated, so that a slow moment hits every figure alike
  first+=("$(ranged 0 $((FOUR - 1)) "run$i")")  # a new playback: its object.read is written
  seek+=("$(ranged $AT $((AT + FOUR - 1)) "run$i")")  # a seek in it
  web+=("$(full "full$i")")
  cli_get+=("$(get)")
  ref+=("$(dgst)")
done
m() { printf '%s\n' "$@" | median; }
F=$(m "${first[@]}") S=$(m "${seek[@]}") W=$(m "${web[@]}") G=$(m "${cli_get[@]}") R=$(m "${ref[@]}")
python3 - "$SIZE" "$F" "$S" "$W" "$G" "$R" <<'PY'
import sys
size, first, seek, web, get, ref = int(sys.argv[1]), *map(float, sys.argv[2:])
mb = size / 1e6
print(f"object                {size / 2**20:.0f} MiB")
print(f"first 4 MiB (Range)   {first * 1000:.0f} ms   (target: under 1000 ms)")
print(f"4 MiB at 80% (seek)   {seek * 1000:.0f} ms   (target: under 300 ms)")
print(f"console download      {mb / web:.0f} MB/s ({web:.2f} s)")
print(f"custody get           {mb / get:.0f} MB/s ({get:.2f} s)")
print(f"openssl dgst -sha256  {mb / ref:.0f} MB/s ({ref:.2f} s)")
print(f"console / get         {get / web:.2f}   (target: at least 0.5)")
print(f"console / openssl     {ref / web:.2f}")
PY
