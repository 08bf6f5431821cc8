# Shared by bench/sip_bench.sh and bench/sip_callgrind.sh (sourced, after PY and OUT are set):
# the processes to stop on exit, the bench login/network to remove, free ports, and the wait
# for a UDP listener.
pids=()
finish() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  "$PY" bench/sip_bench_setup.py cleanup --out "$OUT" >/dev/null || true
}
trap finish EXIT

free_port() { # tcp|udp → a free port on 127.0.0.1
  "$PY" -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' "$1"
}

wait_udp() { # PORT SECONDS: until something listens on 127.0.0.1:PORT/udp (or time is up)
  local i
  for i in $(seq 1 $(($2 * 10))); do
    grep -q ":$(printf '%04X' "$1") " /proc/net/udp && return 0
    sleep 0.1
  done
  return 1
}
