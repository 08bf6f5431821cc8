"""Memory of a host (issue 16): the route service plus 4 gunicorn workers, after route load
over many distinct numbers, as PSS (each shared page counted once over the processes that
share it). Not part of the test suite; bench/README.md, "Memory".

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vmgate_bench_engine \\
        .venv/bin/python bench/route_memory.py [--numbers 250000] [--workers 4]

Starts ``manage.py route_service`` (tenant ``bench``) and gunicorn with
``VMGATE_ROUTE_SERVICE`` pointing at it on free loopback ports, sends one route lookup per
distinct number to gunicorn's workers (``--through gunicorn``, the default: 8 client threads,
the workers pass each lookup to the service) or to the service over one kept-alive
connection (``--through service``, as the SIP edge does), then reads
``/proc/<pid>/smaps_rollup`` of every process. Everything started is stopped on exit; the
bench login it creates (``sip_bench_setup.py prepare``) is removed.
"""

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pss_mb(pid):
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid):
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def wait_http(url, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} never answered")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--numbers", type=int, default=250_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--through", choices=["gunicorn", "service"], default="gunicorn")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vmgate.settings")
    import django

    django.setup()
    from bench.route_bench import sample_calls

    out = Path(tempfile.mkdtemp(prefix="route-memory-"))
    py = sys.executable
    subprocess.run(
        [py, "bench/sip_bench_setup.py", "prepare", "--out", str(out)], cwd=ROOT, check=True
    )
    token = (out / "token").read_text().split()[0]
    env = dict(
        os.environ,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="bench-only",
        DJANGO_LOG_LEVEL="ERROR",
        DJANGO_SECURE_SSL_REDIRECT="0",  # plain HTTP on loopback
    )
    procs = []
    try:
        service_port, app_port = free_port(), free_port()
        started = time.monotonic()

        def start(*command):
            proc = subprocess.Popen(
                [py, *command],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            procs.append(proc)
            return proc

        service = start(
            "manage.py",
            "route_service",
            "--listen",
            f"127.0.0.1:{service_port}",
            "--tenant",
            "bench",
        )
        env["VMGATE_ROUTE_SERVICE"] = f"http://127.0.0.1:{service_port}"
        app = start(
            "-m", "gunicorn", "vmgate.wsgi", "-b", f"127.0.0.1:{app_port}", "-w", str(args.workers)
        )
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{service_port}/ready", timeout=2
                ) as r:
                    print(
                        f"route service: {r.read().decode().strip()} "
                        f"({time.monotonic() - started:.1f} s after start)"
                    )
                    break
            except OSError:
                time.sleep(0.1)
        wait_http(f"http://127.0.0.1:{app_port}/accounts/login/")
        for _ in range(args.workers * 4):  # every worker answers a page
            wait_http(f"http://127.0.0.1:{app_port}/accounts/login/")
        _, calls = sample_calls(args.numbers, seed=16)
        lookups = {}
        for trunk_id, ip, number in calls:  # distinct numbers, by trunk or by source address
            lookups[number] = {"trunk": trunk_id} if ip is None else {"source_ip": ip}
        auth = f"Token {token}"
        port = app_port if args.through == "gunicorn" else service_port
        items = list(lookups.items())
        threads = 8 if args.through == "gunicorn" else 1
        statuses = {}
        lock = threading.Lock()

        def send(part):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            counts = {}
            for number, ingress in part:
                conn.request(
                    "POST",
                    "/api/v1/route/?format=rtjson",
                    body=json.dumps({"called_number": number, **ingress}),
                    headers={"Content-Type": "application/json", "Authorization": auth},
                )
                resp = conn.getresponse()
                resp.read()
                counts[resp.status] = counts.get(resp.status, 0) + 1
                if resp.will_close:  # gunicorn's sync workers close every connection
                    conn.close()
            with lock:
                for status, n in counts.items():
                    statuses[status] = statuses.get(status, 0) + n

        t0 = time.monotonic()
        clients = [threading.Thread(target=send, args=(items[i::threads],)) for i in range(threads)]
        for c in clients:
            c.start()
        for c in clients:
            c.join()
        took = time.monotonic() - t0
        print(
            f"{len(lookups):,} distinct numbers through {args.through} in {took:.1f} s "
            f"({len(lookups) / took:,.0f}/s, {threads} client thread(s)); statuses {statuses}"
        )
        workers = children(app.pid)
        svc, master = pss_mb(service.pid), pss_mb(app.pid)
        per_worker = [pss_mb(w) for w in workers]
        total = svc + master + sum(per_worker)
        print(
            f"PSS MB: route service {svc:.0f}; gunicorn master {master:.0f}; workers "
            + ", ".join(f"{w:.0f}" for w in per_worker)
        )
        one = svc + master + (per_worker[0] if per_worker else 0)
        print(
            f"host total {total:.0f} MB with {len(workers)} workers; with one worker it would be "
            f"{one:.0f} MB: ratio {total / one:.2f}"
        )
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        subprocess.run([py, "bench/sip_bench_setup.py", "cleanup", "--out", str(out)], cwd=ROOT)


if __name__ == "__main__":
    main()
