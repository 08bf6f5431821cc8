#!/usr/bin/env bash
# Instructions per call of the SIP edge's Kamailio, counted by valgrind's callgrind: the
# same count for the same config and messages whatever else the machine is doing (the
# rate steps of sip_bench.sh move by ±20 % on a shared 2-core VM). sipp sends
# SIP_CG_CALLS INVITEs (each answered 302, then ACKed) at a low rate to a Kamailio with one
# child running under callgrind; the route API is the route service over the bench
# database, as in sip_bench.sh. Prints Kamailio's instructions per call (all its processes, start-up
# excluded: counted only from the first INVITE, via callgrind_control -z) and writes the
# callgrind files for callgrind_annotate.
#
#   bench/sip_callgrind.sh                       # deploy/kamailio of this tree
#   SIP_CG_EDGE=/path/to/other/tree bench/sip_callgrind.sh   # another tree's deploy/kamailio
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PY:-$ROOT/.venv/bin/python}
DB=${SIP_BENCH_DB:-vmgate_bench_engine}
export DATABASE_URL=${SIP_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/$DB}
EDGE=${SIP_CG_EDGE:-$ROOT}
CALLS=${SIP_CG_CALLS:-1000}
# kamailio options for a tree without deploy/kamailio's "run" (e.g. "-x tlsf -X tlsf")
SIP_CG_KAMAILIO_ARGS=${SIP_CG_KAMAILIO_ARGS:-}
RATE=${SIP_CG_RATE:-25}
OUT=$ROOT/bench/out/callgrind-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"
# shellcheck source=bench/sip_common.sh
. "$ROOT/bench/sip_common.sh"

"$PY" bench/sip_bench_setup.py prepare --out "$OUT" --numbers 200 >/dev/null
HTTP_PORT=$(free_port tcp)
SIP_PORT=$(free_port udp)
DJANGO_DEBUG=0 DJANGO_SECRET_KEY=sip-bench-only DJANGO_LOG_LEVEL=ERROR \
  "$PY" manage.py route_service --listen "127.0.0.1:$HTTP_PORT" --tenant bench \
  >"$OUT/route-service.log" 2>&1 </dev/null &
pids+=($!)
TOKEN=$(head -n1 "$OUT/token")
NUMBER=$(sed -n 2p "$OUT/numbers.csv" | tr -d ';')
for _ in $(seq 1 600); do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 600 -H "Authorization: Token $TOKEN" \
    -H 'Content-Type: application/json' \
    -d "{\"called_number\": \"$NUMBER\", \"source_ip\": \"127.0.0.1\"}" \
    "http://127.0.0.1:$HTTP_PORT/api/v1/route/?format=rtjson" || true)
  [ "$code" = 200 ] && break
  sleep 0.5
done

args=(--listen "127.0.0.1:$SIP_PORT" --api-url "http://127.0.0.1:$HTTP_PORT"
  --token-file "$OUT/token" --children 1 --pike-density 65535 --pike-unit 1)
# a tree whose edge reads the database (issue 14 on) needs its URL and the tenant
if grep -q -- "--db-url" "$EDGE/deploy/kamailio/render.py"; then
  args+=(--db-url "$DATABASE_URL" --tenant-id "$(cat "$OUT/tenant_id")")
fi
"$PY" "$EDGE/deploy/kamailio/render.py" "$OUT/kamailio" "${args[@]}" >/dev/null
# the tree's own command line (render.py writes it since 1 Dec 2026), else Kamailio's defaults
START="$OUT/kamailio/run"
[ -x "$START" ] || START="kamailio $SIP_CG_KAMAILIO_ARGS -f $OUT/kamailio/kamailio.cfg -DD -E"
valgrind --tool=callgrind --trace-children=yes --instr-atstart=no \
  --callgrind-out-file="$OUT/callgrind.%p" \
  $START -m 256 >"$OUT/kamailio.log" 2>&1 </dev/null &
KPID=$!
pids+=($KPID)
wait_udp "$SIP_PORT" 120 || true
sleep 5  # let the children finish starting (and the first reload)
callgrind_control -i on >/dev/null  # count from here on, in every Kamailio process
(cd "$OUT" && sipp "127.0.0.1:$SIP_PORT" -sf "$ROOT/bench/sip_invite_302.xml" \
  -inf "$OUT/numbers.csv" -i 127.0.0.1 -p "$(free_port udp)" -r "$RATE" -m "$CALLS" \
  -timeout $((CALLS / RATE + 120))s -nostdin -trace_stat -stf stats.csv -fd 5 \
  >sipp.out 2>&1 </dev/null) || true
callgrind_control -i off >/dev/null
ok=$(tail -n1 "$OUT/stats.csv" | "$PY" -c 'import sys,csv
rows=list(csv.reader(open(sys.argv[1]).read().splitlines(), delimiter=";"))
print(dict(zip(rows[0], rows[-1]))["SuccessfulCall(C)"])' "$OUT/stats.csv")
kill -TERM "$KPID"
wait "$KPID" 2>/dev/null || true
# each process's count, as valgrind prints it at its exit ("==PID== Collected : N")
total=$(awk '/== Collected :/ { n += $4 } END { print n + 0 }' "$OUT/kamailio.log")
echo "edge: $EDGE"
echo "calls answered 302: $ok of $CALLS"
echo "Kamailio instructions: $total in all, $((total / CALLS)) per call"
echo "callgrind files: $OUT/callgrind.* (callgrind_annotate)"
