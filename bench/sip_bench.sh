#!/usr/bin/env bash
# SIP edge benchmark (bench/README.md, "SIP edge"): sipp → Kamailio (deploy/kamailio) → the
# route service (manage.py route_service, asked in RESP; the index) → PostgreSQL with
# the 1M-dialpeer data set (Kamailio also reads the
# authorized networks and max_cps from it, every 2 s). sipp sends INVITEs at a fixed
# rate for SIP_BENCH_DURATION seconds per step, stepping the rate up; every call must get a
# 302 (bench/sip_invite_302.xml: anything else is an unexpected message = a failed call).
# Reports per step: calls, successful, failed, unexpected, retransmissions and the INVITE→302
# response time (p50/p95/p99/max from sipp's -trace_rtt), and CPU per call. A step is clean
# only with every call answered, 0 failed, 0 unexpected, retransmissions under 1 % and
# p99 ≤ 50 ms; stepping stops at the first step that is not. Then, in the same run, the
# same steps against a static-302 Kamailio (bench/kamailio_static_302.cfg: no checks, no
# API, no database) at SIP_BENCH_BASELINE_RATES; the edge's highest clean rate is reported
# as a share of the baseline's. Everything runs on 127.0.0.1; every process started here is
# stopped by its PID on exit, and the bench login/network it added are removed.
#
#   bench/sip_bench.sh                      # database vmgate_bench_engine
#   SIP_BENCH_RATES="200 400 600" SIP_BENCH_DURATION=10 bench/sip_bench.sh
#   SIP_BENCH_BASELINE_RATES="" bench/sip_bench.sh      # without the baseline
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

PY=${PY:-$ROOT/.venv/bin/python}
[ -x "$PY" ] || PY=$(command -v python3.11)
DB=${SIP_BENCH_DB:-vmgate_bench_engine}
export DATABASE_URL=${SIP_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/$DB}
RATES=${SIP_BENCH_RATES:-"100 200 300 400 500 600 800 1000"}
DURATION=${SIP_BENCH_DURATION:-30}
# The static-302 baseline's steps, run first in the same run ("" to skip it).
BASELINE_RATES=${SIP_BENCH_BASELINE_RATES-"2000 4000 6000 8000 10000 12000 14000 16000"}
# The route service's snapshots: kept between runs, so the second run starts from one.
SNAPSHOT_DIR=${SIP_BENCH_SNAPSHOT_DIR:-$ROOT/bench/out/route-snapshots}
CHILDREN=${SIP_BENCH_KAMAILIO_CHILDREN:-16}
# Kamailio shared memory (MB): it holds every transaction for its 4 s wait timer; the
# default 64 MB runs out near 1,200 calls/s, 256 MB near 4,800 ("new_t(): out of mem");
# 1024 as make sip-edge.
SHM_MB=${SIP_BENCH_KAMAILIO_SHM_MB:-1024}
OUT=$ROOT/bench/out/sip-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"

# shellcheck source=bench/sip_common.sh
. "$ROOT/bench/sip_common.sh"

echo "== preparing $DB (trunk, token, routed numbers)"
"$PY" bench/sip_bench_setup.py prepare --out "$OUT" | tee "$OUT/setup.txt"

HTTP_PORT=$(free_port tcp)
SIP_PORT=$(free_port udp)
echo "== route service (manage.py route_service) on 127.0.0.1:$HTTP_PORT"
START=$(date +%s.%N)
DJANGO_DEBUG=0 DJANGO_SECRET_KEY=sip-bench-only DJANGO_LOG_LEVEL=ERROR \
  "$PY" manage.py route_service --listen "127.0.0.1:$HTTP_PORT" --tenant bench \
  --snapshot-dir "$SNAPSHOT_DIR" \
  >"$OUT/route-service.log" 2>&1 </dev/null &
pids+=($!)
API_PID=$!
WORKERS=1
until curl -sf "http://127.0.0.1:$HTTP_PORT/ready" >/dev/null; do sleep 0.05; done
echo "== route service ready after $(echo "$(date +%s.%N) - $START" | bc) s ($(curl -s "http://127.0.0.1:$HTTP_PORT/ready"))" | tee -a "$OUT/report.txt"

TOKEN=$(head -n1 "$OUT/token")
NUMBER=$(sed -n 2p "$OUT/numbers.csv" | tr -d ';')
ask() {
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 600 \
    -H "Authorization: Token $TOKEN" -H 'Content-Type: application/json' \
    -d "{\"called_number\": \"$NUMBER\", \"source_ip\": \"127.0.0.1\"}" \
    "http://127.0.0.1:$HTTP_PORT/api/v1/route/?format=rtjson" || echo "000 0"
}
echo "== warming up every worker (each loads its routing index once)"
for _ in $(seq 1 600); do ask | grep -q '^200' && break; sleep 0.5; done
for round in $(seq 1 20); do
  slow=0
  warm=()
  for i in $(seq 1 $((WORKERS * 3))); do
    ask >"$OUT/warm.$round.$i" &
    warm+=($!)
  done
  wait "${warm[@]}"
  for f in "$OUT"/warm."$round".*; do
    read -r code secs <"$f"
    [ "$code" = 200 ] || slow=1
    awk -v s="$secs" 'BEGIN { exit !(s > 0.2) }' && slow=1
  done
  rm -f "$OUT"/warm."$round".*
  [ "$slow" = 0 ] && break
done
# the proof: the service holds its index (RSS in MB)
echo "== route service RSS MB after warm-up: $(awk '/^VmRSS:/ { printf "%d", $2 / 1024 }' /proc/$API_PID/status)" | tee -a "$OUT/report.txt"

echo "== kamailio ($CHILDREN children) on udp:127.0.0.1:$SIP_PORT"
"$PY" deploy/kamailio/render.py "$OUT/kamailio" --listen "127.0.0.1:$SIP_PORT" \
  --api-url "http://127.0.0.1:$HTTP_PORT" --token-file "$OUT/token" \
  --db-url "$DATABASE_URL" --tenant-id "$(cat "$OUT/tenant_id")" \
  --children "$CHILDREN" --pike-density 65535 --pike-unit 1 >/dev/null
"$OUT/kamailio/run" -m "$SHM_MB" >"$OUT/kamailio.log" 2>&1 </dev/null &
pids+=($!)
KAMAILIO_PID=$!
wait_udp "$SIP_PORT" 10 || true
sleep 0.5

cpu_snapshot() { # → "api kamailio pg:<pid>=<s>..." CPU seconds so far: the process
  # trees, and each PostgreSQL backend serving the bench database (only backends alive at
  # both ends of a step are counted). The machine is shared, so CPU per call says more than
  # wall-clock rates.
  "$PY" - "$API_PID" "$KAMAILIO_PID" "$DB" <<'EOF'
import os, subprocess, sys
tick = os.sysconf("SC_CLK_TCK")
def cpu(pid):
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / tick
    except OSError:
        return 0.0
def tree(pid):
    out = [pid]
    try:
        kids = open(f"/proc/{pid}/task/{pid}/children").read().split()
    except OSError:
        kids = []
    for k in kids:
        out += tree(int(k))
    return out
pg = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-tAc",
    f"select pid from pg_stat_activity where datname = '{sys.argv[3]}'"],
    capture_output=True, text=True, stdin=subprocess.DEVNULL).stdout.split()
print(f"{sum(cpu(p) for p in tree(int(sys.argv[1]))):.2f}",
      f"{sum(cpu(p) for p in tree(int(sys.argv[2]))):.2f}",
      *(f"pg:{p}={cpu(int(p)):.2f}" for p in pg))
EOF
}

summarize() { # step dir, rate → one report line; exit status 0 when the step was clean
  "$PY" - "$1" "$2" "$DURATION" <<'EOF'
import csv, glob, sys
from pathlib import Path
step, rate, duration = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def snapshot(name):
    fields = (step / name).read_text().split()
    pg = dict(f[3:].split("=") for f in fields[2:])
    return [float(fields[0]), float(fields[1])], {k: float(v) for k, v in pg.items()}
(before, pg_before), (after, pg_after) = snapshot("cpu.before"), snapshot("cpu.after")
before.append(sum(v for k, v in pg_before.items() if k in pg_after))
after.append(sum(v for k, v in pg_after.items() if k in pg_before))
sipp_cpu = sum(float(x) for x in (step / "sipp.cpu").read_text().split()[-1].split("_"))
rows = list(csv.reader((step / "stats.csv").read_text().splitlines(), delimiter=";"))
last = dict(zip(rows[0], rows[-1]))
n = lambda k: int(last.get(k, "0") or 0)
calls, ok, failed = n("TotalCallCreated"), n("SuccessfulCall(C)"), n("FailedCall(C)")
unexpected = n("FailedUnexpectedMessage(C)")
retrans = n("Retransmissions(C)")
times = []
for f in glob.glob(str(step / "*_rtt.csv")):
    for r in csv.reader(Path(f).read_text().splitlines()[1:], delimiter=";"):
        if len(r) >= 2 and r[1]:
            times.append(float(r[1]))
times.sort()
pct = lambda p: times[min(len(times) - 1, int(p / 100 * len(times)))] if times else float("nan")
# Clean (issue 16): every call made and answered, 0 failed, 0 unexpected, retransmissions
# under 1 % of the calls, and INVITE→302 p99 ≤ 50 ms.
why = []
if calls != rate * duration or ok != calls:
    why.append(f"{ok} of {rate * duration} calls answered")
if failed or unexpected:
    why.append(f"{failed} failed, {unexpected} unexpected")
if retrans >= 0.01 * max(calls, 1):
    why.append(f"retransmissions {retrans / max(calls, 1):.1%} ≥ 1 %")
if not times or pct(99) > 50:
    why.append("p99 > 50 ms")
clean = not why
print(f"{rate:>5} cps  calls {calls:>6}  ok {ok:>6}  failed {failed:>5}  unexpected {unexpected:>4}"
      f"  retrans {retrans:>4}  rt ms p50 {pct(50):6.1f}  p95 {pct(95):6.1f}"
      f"  p99 {pct(99):6.1f}  max {times[-1] if times else float('nan'):7.1f}"
      f"  {'clean' if clean else 'NOT CLEAN: ' + '; '.join(why)}")
if calls:
    per = [(a - b) * 1000 / calls for a, b in zip(after, before)] + [sipp_cpu * 1000 / calls]
    print(f"        CPU ms per call: route API {per[0]:.2f}  kamailio {per[1]:.2f}"
          f"  postgres {per[2]:.2f}  sipp {per[3]:.2f}  (total {sum(per):.2f})"
          f"  load {open('/proc/loadavg').read().split()[0]}")
sys.exit(0 if clean else 1)
EOF
}

TIMER=""
[ -x /usr/bin/time ] && TIMER="/usr/bin/time -f %U_%S -o sipp.cpu"
# run_steps NAME PORT RATES: sipp at each rate in turn (RATES ascending) against
# 127.0.0.1:PORT until a step is not clean; sets $best to the highest clean rate (0: none).
run_steps() {
  local name=$1 port=$2 rates=$3 rate step
  best=0
  echo "== $name: ${DURATION}s per step, load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/report.txt"
  for rate in $rates; do
    step="$OUT/$name-$rate"
    mkdir -p "$step"
    cpu_snapshot >"$step/cpu.before"
    echo "0 0" >"$step/sipp.cpu"
    (cd "$step" && $TIMER sipp "127.0.0.1:$port" -sf "$ROOT/bench/sip_invite_302.xml" \
      -inf "$OUT/numbers.csv" -i 127.0.0.1 -p "$(free_port udp)" \
      -r "$rate" -m $((rate * DURATION)) -l $((rate * 4)) -timeout $((DURATION + 40))s \
      -nostdin -max_recv_loops 10000 -max_sched_loops 10000 \
      -trace_stat -stf stats.csv -fd 5 -trace_rtt -rtt_freq 100 \
      >sipp.out 2>&1 </dev/null) || true
    cpu_snapshot >"$step/cpu.after"
    if summarize "$step" "$rate" | tee -a "$OUT/report.txt"; then
      best=$rate
    else
      break
    fi
  done
}

run_steps edge "$SIP_PORT" "$RATES"
edge_best=$best
# then the baseline (after the edge: its overloaded last step must not disturb the edge's)
if [ -n "$BASELINE_RATES" ]; then
  BASE_PORT=$(free_port udp)
  echo "== baseline: static-302 Kamailio ($CHILDREN children, bench/kamailio_static_302.cfg) on udp:127.0.0.1:$BASE_PORT"
  kamailio -f "$ROOT/bench/kamailio_static_302.cfg" -A "STATIC_LISTEN=udp:127.0.0.1:$BASE_PORT" \
    -A "STATIC_CHILDREN=$CHILDREN" -m "$SHM_MB" -DD -E >"$OUT/kamailio-static.log" 2>&1 </dev/null &
  STATIC_PID=$!
  pids+=($STATIC_PID)
  wait_udp "$BASE_PORT" 10 || true
  sleep 0.5
  # its CPU is reported in the kamailio column (route API: none)
  EDGE_KAMAILIO_PID=$KAMAILIO_PID EDGE_API_PID=$API_PID
  KAMAILIO_PID=$STATIC_PID API_PID=0
  run_steps baseline "$BASE_PORT" "$BASELINE_RATES"
  baseline_best=$best
  kill "$STATIC_PID" 2>/dev/null || true
  wait "$STATIC_PID" 2>/dev/null || true
  KAMAILIO_PID=$EDGE_KAMAILIO_PID API_PID=$EDGE_API_PID
fi

{
  echo "== highest clean rate of the edge (0 failed, retransmissions < 1 %, p99 ≤ 50 ms): $edge_best calls/s"
  if [ -n "$BASELINE_RATES" ]; then
    echo "== highest clean rate of the static-302 baseline: $baseline_best calls/s"
    awk -v e="$edge_best" -v b="$baseline_best" \
      'BEGIN { if (b > 0) printf "== edge / baseline: %.1f %%\n", 100 * e / b }'
  fi
  echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; outputs in $OUT"
} | tee -a "$OUT/report.txt"
