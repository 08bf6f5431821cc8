"""API benchmark: ``POST /api/v1/route/`` against a trivial authenticated JSON view.

Runs gunicorn on 127.0.0.1 (gthread workers, keep-alive) over a large PostgreSQL data set,
then drives both endpoints with keep-alive connections from a second process (this script
in ``--client`` mode: threads, one persistent ``http.client`` connection each) and reports
requests/s, p50/p99 latency and the route/baseline throughput ratio.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vmgate_bench_engine \\
        .venv/bin/python bench/api_bench.py [--seconds 20] [--connections 4] [--workers 2]

Without a ready data set, ``--generate N`` builds one of N dialpeers (N rules, one target
each, 10 customers with one trunk each) into the database named by DATABASE_URL first
(``--drop`` drops that database at the end). Not part of the test suite.

Targets (issue 7): route ≥ 60 % of the baseline's throughput, route p99 ≤ 10 ms.
"""

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_USER = "api-bench"


# --------------------------------------------------------------------------- client mode


def client_main(args):
    """Second process: hammer one URL for ``seconds`` with ``connections`` keep-alive
    connections; print one JSON line with the latencies' summary."""
    spec = json.loads(sys.stdin.read())
    bodies = [json.dumps(b).encode() for b in spec.get("bodies", [])] or [None]
    # As the TLS proxy in front of gunicorn would: with DJANGO_DEBUG=0 a plain-HTTP request
    # to any endpoint but the route API is redirected to HTTPS (a 301 is not a baseline).
    headers = {
        "Authorization": f"Token {spec['key']}",
        "Content-Type": "application/json",
        "X-Forwarded-Proto": "https",
    }
    deadline_start = time.perf_counter() + spec.get("warmup", 2.0)
    deadline_end = deadline_start + spec["seconds"]
    lat, errors, statuses, reasons = [], [0], {}, {}
    count_reasons = "route" in spec["path"]  # show that the lookups really were decided
    lock = threading.Lock()

    def worker(seed):
        rnd = random.Random(seed)
        conn = HTTPConnection("127.0.0.1", spec["port"], timeout=10)
        mine, bad, codes, why = [], 0, {}, {}
        while True:
            now = time.perf_counter()
            if now >= deadline_end:
                break
            body = bodies[rnd.randrange(len(bodies))]
            t0 = time.perf_counter()
            try:
                conn.request(spec["method"], spec["path"], body=body, headers=headers)
                resp = conn.getresponse()
                answer = resp.read()
                status = resp.status
            except OSError:
                bad += 1
                conn.close()
                conn = HTTPConnection("127.0.0.1", spec["port"], timeout=10)
                continue
            t1 = time.perf_counter()
            if t0 >= deadline_start:
                mine.append(t1 - t0)
                codes[status] = codes.get(status, 0) + 1
                if status != 200:
                    bad += 1
                elif count_reasons:
                    reason = json.loads(answer)["reason"]
                    why[reason] = why.get(reason, 0) + 1
        conn.close()
        with lock:
            lat.extend(mine)
            errors[0] += bad
            for k, v in codes.items():
                statuses[k] = statuses.get(k, 0) + v
            for k, v in why.items():
                reasons[k] = reasons.get(k, 0) + v

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(spec["connections"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lat.sort()

    def pct(p):
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else None

    print(
        json.dumps(
            {
                "requests": len(lat),
                "rps": len(lat) / spec["seconds"],
                "p50_ms": pct(0.50),
                "p99_ms": pct(0.99),
                "max_ms": lat[-1] * 1000 if lat else None,
                "errors": errors[0],
                "statuses": statuses,
                **({"reasons": reasons} if count_reasons else {}),
            }
        )
    )


# --------------------------------------------------------------------------- data


def django_setup():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vmgate.settings")
    import django

    django.setup()


def generate(n):
    """A data set of ``n`` dialpeers for one tenant (bulk inserts, no history rows)."""
    from django.db import transaction

    from customers.models import Customer, Trunk, TrunkNetwork
    from dialpeers.models import Dialpeer
    from routing.models import Network, RoutingRule, RoutingTarget, VMGateClient
    from vmgate.models import Tenant

    rnd = random.Random(7)
    with transaction.atomic():
        tenant = Tenant.objects.create(name="API bench", slug="api-bench")
        net = Network.objects.create(tenant=tenant, name="bench")
        clients = VMGateClient.objects.bulk_create(
            VMGateClient(
                tenant=tenant,
                network=net,
                name=f"gw{i}",
                node_id=f"n{i}",
                sip_uri=f"sip:10.8.0.{i}",
            )
            for i in range(1, 21)
        )
        trunks = []
        for i in range(10):
            c = Customer.objects.create(tenant=tenant, name=f"C{i}", country="AM", balance=100)
            t = Trunk.objects.create(tenant=tenant, customer=c, name="in", tech_prefix=f"{10 + i}")
            TrunkNetwork.objects.create(trunk=t, network=f"198.18.{i}.0/24")
            trunks.append(t)
        per = n // len(trunks)
        batch = 20_000
        for t in trunks:
            codes = set()
            while len(codes) < per:
                codes.add(str(rnd.randrange(10**5, 10**9)))
            codes = sorted(codes)
            for start in range(0, per, batch):
                chunk = codes[start : start + batch]
                rules = RoutingRule.objects.bulk_create(
                    RoutingRule(tenant=tenant, code=code, label="bench") for code in chunk
                )
                RoutingTarget.objects.bulk_create(
                    RoutingTarget(rule=r, client=clients[rnd.randrange(len(clients))])
                    for r in rules
                )
                Dialpeer.objects.bulk_create(
                    Dialpeer(
                        tenant=tenant, name=f"dp{r.pk}", customer_id=t.customer_id, trunk=t, rule=r
                    )
                    for r in rules
                )
            print(f"  trunk {t.tech_prefix}: {per} dialpeers", file=sys.stderr)


def prepare(samples):
    """Bench login + token in the tenant with most dialpeers; route bodies that match."""
    import ipaddress

    from django.contrib.auth import get_user_model
    from django.db import connection

    from customers.models import TrunkNetwork
    from vmgate.models import APIToken, Membership, Tenant

    with connection.cursor() as cur:
        cur.execute(
            "SELECT tenant_id, count(*) FROM dialpeers_dialpeer GROUP BY tenant_id "
            "ORDER BY 2 DESC LIMIT 1"
        )
        tenant_id, count = cur.fetchone()
        cur.execute(
            "SELECT d.trunk_id, r.code FROM dialpeers_dialpeer d "
            "JOIN routing_routingrule r ON r.id = d.rule_id "
            "WHERE d.tenant_id = %s AND d.is_active AND r.is_active "
            "ORDER BY random() LIMIT %s",
            [tenant_id, samples],
        )
        picks = cur.fetchall()
    tenant = Tenant.objects.get(pk=tenant_id)
    hosts, prefixes = {}, {}
    for tn in TrunkNetwork.objects.filter(trunk__tenant=tenant).select_related("trunk"):
        net = ipaddress.ip_network(tn.network)
        host = net.network_address + (1 if net.num_addresses > 1 else 0)
        hosts.setdefault(tn.trunk_id, str(host))
        prefixes[tn.trunk_id] = tn.trunk.tech_prefix
    rnd = random.Random(11)
    bodies = []
    for trunk_id, code in picks:
        if trunk_id not in hosts:
            continue
        tail = "".join(rnd.choice("0123456789") for _ in range(max(1, 11 - len(code))))
        bodies.append(
            {"called_number": prefixes[trunk_id] + code + tail, "source_ip": hosts[trunk_id]}
        )
    User = get_user_model()
    User.objects.filter(username=BENCH_USER).delete()
    user = User.objects.create(username=BENCH_USER)
    Membership.objects.create(user=user, tenant=tenant, role=Membership.OPERATOR)
    _, key = APIToken.issue(user, "bench")
    return tenant, count, bodies, key


def cleanup():
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(username=BENCH_USER).delete()


# --------------------------------------------------------------------------- server


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port, workers, threads):
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "api-bench-not-secret"),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_LOG_LEVEL": "ERROR",
    }
    cmd = [
        str(Path(sys.executable).with_name("gunicorn")),
        "vmgate.wsgi",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        str(workers),
        "-k",
        "gthread",
        "--threads",
        str(threads),
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def worker_rss(master_pid):
    """{pid: RSS in MB} of gunicorn's workers (the master's children)."""
    try:
        kids = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    except OSError:
        return {}
    out = {}
    for pid in map(int, kids):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                out[pid] = int(line.split()[1]) / 1024
    return out


#: A worker counts as warm once its RSS is at least this share of the largest worker's.
WARM_SHARE = 0.8


def warm_every_worker(base, bodies, master_pid, timeout=600):
    """Send route requests over fresh connections until every worker has built its index:
    each worker's RSS within WARM_SHARE of the largest one's, and a last round in which no
    request took over a second (a cold worker blocks for seconds while it builds). Raises
    if that does not happen within ``timeout`` seconds. Returns the workers' RSS."""
    spec = {**base, "method": "POST", "path": "/api/v1/route/", "bodies": bodies}
    spec.update(seconds=3, warmup=0, connections=4 * max(1, len(worker_rss(master_pid))))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = run_client(spec)
        rss = worker_rss(master_pid)
        top = max(rss.values(), default=0)
        if (
            rss
            and min(rss.values()) >= WARM_SHARE * top
            and row["requests"]
            and row["max_ms"] < 1000
            and not row["errors"]
        ):
            return rss
    raise SystemExit(f"workers not warm after {timeout} s: RSS MB {worker_rss(master_pid)}")


def run_client(spec):
    out = subprocess.run(
        [sys.executable, __file__, "--client"],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2 cores)")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker")
    parser.add_argument("--rounds", type=int, default=2, help="baseline/route alternations")
    parser.add_argument("--samples", type=int, default=2000, help="distinct route bodies")
    parser.add_argument("--generate", type=int, default=0, help="build N dialpeers first")
    parser.add_argument("--drop", action="store_true", help="drop the database afterwards")
    args = parser.parse_args()
    if args.client:
        return client_main(args)

    django_setup()
    from django.db import connection

    if args.generate:
        from django.core.management import call_command

        dbname = connection.settings_dict["NAME"]
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"CREATE DATABASE {dbname}"],
            check=False,
        )
        call_command("migrate", verbosity=0)
        t0 = time.time()
        generate(args.generate)
        print(f"generated {args.generate} dialpeers in {time.time() - t0:.0f} s", file=sys.stderr)

    tenant, count, bodies, key = prepare(args.samples)
    connection.close()
    port = free_port()
    server = start_gunicorn(port, args.workers, args.threads)
    try:
        base = {"port": port, "key": key, "seconds": args.seconds}
        base["connections"] = args.connections
        # Warm every worker (the engine's in-process index is built on first use), and
        # show it: each worker's RSS, before and after.
        cold = worker_rss(server.pid)
        warm = warm_every_worker(base, bodies, server.pid)
        print(
            "gunicorn workers' RSS MB, cold → warm:",
            ", ".join(
                f"{pid}: {cold.get(pid, 0):.0f} → {mb:.0f}" for pid, mb in sorted(warm.items())
            ),
        )
        results = {"baseline": [], "route": []}
        for _ in range(args.rounds):
            results["baseline"].append(run_client({**base, "method": "GET", "path": "/api/v1/me/"}))
            results["route"].append(
                run_client({**base, "method": "POST", "path": "/api/v1/route/", "bodies": bodies})
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        cleanup()
        if args.drop:
            dbname = connection.settings_dict["NAME"]
            connection.close()
            subprocess.run(
                ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE {dbname}"],
                check=False,
            )

    load = os.getloadavg()
    print(f"data set: tenant “{tenant.name}”, {count} dialpeers; {len(bodies)} route bodies")
    print(
        f"gunicorn -w {args.workers} -k gthread --threads {args.threads}; "
        f"{args.connections} keep-alive connections, {args.seconds:.0f} s per run, "
        f"{args.rounds} rounds (every round shown); load average {load[0]:.2f} {load[1]:.2f}"
    )
    print(
        f"{'round':<6}{'endpoint':<28}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'errors':>8}"
    )
    for i, (b, r) in enumerate(zip(results["baseline"], results["route"], strict=True), 1):
        for name, row in (("GET /api/v1/me/ (baseline)", b), ("POST /api/v1/route/", r)):
            print(
                f"{i:<6}{name:<28}{row['rps']:>9.0f}{row['p50_ms']:>9.2f}{row['p99_ms']:>9.2f}"
                f"{row['max_ms']:>9.1f}{row['errors']:>8}"
            )
    ratios = [
        r["rps"] / b["rps"]
        for b, r in zip(results["baseline"], results["route"], strict=True)
        if b["rps"]
    ]
    worst_p99 = max(r["p99_ms"] for r in results["route"])
    print(
        "route/baseline throughput per round: "
        + ", ".join(f"{x:.0%}" for x in ratios)
        + f" (target ≥ 60 %); route p99, worst round: {worst_p99:.2f} ms (target ≤ 10 ms)"
    )
    print("all rounds:", json.dumps(results))


if __name__ == "__main__":
    main()
