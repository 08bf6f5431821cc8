"""Routing-engine benchmark on the generated data set (bench/gen_route_data.py).

Reports, for one process on one core: the cold start (building the tenant's index: time,
resident memory), warm live decisions per second (no explain) and their p50/p99/p99.9
latency, the same for a plain-dict longest-prefix probe over the same (trunk, code) keys
(the physical limit of a Python lookup, and the engine's ratio to it), the latency of
``explain=True`` decisions, and the time from an edit's commit in a second process to its
visibility here.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vmgate_bench_engine \\
        .venv/bin/python bench/route_bench.py [--samples 100000] [--seconds 5]

Not part of the test suite.
"""

import argparse
import gc
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vmgate.settings")


def proc_status(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # MB
    return 0.0


def sample_calls(n, seed=7):
    """``n`` calls ``(trunk_id or None, source_ip or None, called_number)`` drawn from the
    bench data: 90 % to a linked rule's code (by trunk), 5 % by source IP, 5 % random."""
    from django.db import connection

    rng = random.Random(seed)
    with connection.cursor() as cur:
        cur.execute("SELECT id FROM vmgate_tenant WHERE slug = 'bench'")
        (tenant_id,) = cur.fetchone()
        cur.execute("SELECT max(id) FROM dialpeers_dialpeer")
        (max_dp,) = cur.fetchone()
        ids = rng.sample(range(1, max_dp + 1), min(n, max_dp))
        cur.execute(
            "SELECT d.trunk_id, t.tech_prefix, r.code FROM dialpeers_dialpeer d "
            "JOIN routing_routingrule r ON r.id = d.rule_id "
            "JOIN customers_trunk t ON t.id = d.trunk_id WHERE d.id = ANY(%s)",
            [ids],
        )
        rows = cur.fetchall()
    calls = []
    for i in range(n):
        trunk_id, prefix, code = rows[i % len(rows)]
        tail = "".join(rng.choice("0123456789") for _ in range(max(2, 11 - len(code))))
        r = rng.random()
        if r < 0.05:
            ip = f"10.{trunk_id >> 16}.{(trunk_id >> 8) & 255}.{trunk_id & 255}"
            calls.append((None, ip, prefix + code + tail))
        elif r < 0.10:
            digits = "".join(rng.choice("0123456789") for _ in range(11))
            calls.append((trunk_id, None, prefix + digits))
        else:
            calls.append((trunk_id, None, prefix + code + tail))
    return tenant_id, calls


def percentile(sorted_values, p):
    k = min(len(sorted_values) - 1, int(round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def get_index(tenant_id):
    """The tenant's index (``routing.engine.index`` today; ``routing.route_index`` before
    the engine became a package, so the same script measures both)."""
    try:
        from routing.engine import index
    except ImportError:
        from routing import route_index as index
    return index.get_index(tenant_id)


def dict_probe_setup(tenant_id):
    """``(trunk, code) → dialpeer id`` for every dialpeer, each trunk's tech prefix, and
    the trunk of each benchmark source IP: what a bare longest-prefix probe needs."""
    from django.db import connection

    keys, prefixes = {}, {}
    with connection.cursor() as cur:
        cur.execute(
            "SELECT d.trunk_id, r.code, d.id FROM dialpeers_dialpeer d "
            "JOIN routing_routingrule r ON r.id = d.rule_id WHERE d.tenant_id = %s",
            [tenant_id],
        )
        for trunk_id, code, dp_id in cur:
            keys.setdefault((trunk_id, code), dp_id)
        cur.execute("SELECT id, tech_prefix FROM customers_trunk WHERE tenant_id = %s", [tenant_id])
        prefixes = dict(cur.fetchall())
    lengths = tuple(sorted({len(code) for _, code in keys}, reverse=True))
    return keys, prefixes, lengths


def dict_probe(keys, prefixes, lengths, ip_trunks, trunk_id, ip, number):
    """The physical-limit reference: the trunk, strip its prefix, probe the lengths."""
    if ip is not None:
        trunk_id = ip_trunks[ip]
    rest = number[len(prefixes[trunk_id]) :]
    n = len(rest)
    get = keys.get
    for length in lengths:
        if length <= n:
            hit = get((trunk_id, rest[:length]))
            if hit is not None:
                return hit
    return None


def edit_visibility(tenant, rounds=5):
    """Seconds from a commit in another process to the first decision here that sees it."""
    from django.db import connection

    from routing.engine import route_call

    with connection.cursor() as cur:
        cur.execute(
            "SELECT d.id, d.trunk_id, t.tech_prefix, r.code FROM dialpeers_dialpeer d "
            "JOIN routing_routingrule r ON r.id = d.rule_id JOIN customers_trunk t "
            "ON t.id = d.trunk_id WHERE d.is_active AND r.is_active AND r.code <> '' "
            "ORDER BY d.id LIMIT 1 OFFSET 4321"
        )
        dp_id, trunk_id, prefix, code = cur.fetchone()
    number = prefix + code + "0" * max(2, 11 - len(code))
    script = (
        "import sys, time, django; django.setup();"
        "from dialpeers.models import Dialpeer;"
        f"dp = Dialpeer.objects.get(pk={dp_id}); dp.is_active = sys.argv[1] == '1';"
        "dp.save(); print(time.time(), flush=True)"
    )
    results = []
    for i in range(rounds):
        active = i % 2 == 1  # first deactivate, then reactivate, …
        before = route_call(tenant, called_number=number, trunk=trunk_id).dialpeer
        proc = subprocess.Popen(
            [sys.executable, "-c", script, "1" if active else "0"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        deadline = time.time() + 30
        seen_at = None
        while time.time() < deadline:
            d = route_call(tenant, called_number=number, trunk=trunk_id)
            now_has = d.dialpeer is not None and d.dialpeer.id == dp_id
            if now_has == active:
                seen_at = time.time()
                break
        committed_at = float(proc.communicate()[0].split()[-1])
        if seen_at is None:
            results.append(float("inf"))
        else:
            results.append(seen_at - committed_at)
        del before
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--visibility-rounds", type=int, default=6)
    parser.add_argument("--explain-samples", type=int, default=2000)
    parser.add_argument(
        "--at",
        default=None,
        help="ISO 8601 call time for every decision (default: now); schedules (SPEC §9) "
        "are judged at it",
    )
    args = parser.parse_args()

    import django

    django.setup()
    from datetime import datetime
    from functools import partial

    from routing.engine import route_call
    from vmgate.models import Tenant

    if args.at:
        route_call = partial(route_call, at=datetime.fromisoformat(args.at))
        print(f"every decision at {args.at}")

    print(f"load: {open('/proc/loadavg').read().strip()}  (cores: {os.cpu_count()})")
    tenant = Tenant.objects.get(slug="bench")
    rss0 = proc_status("VmRSS")
    t0, c0 = time.perf_counter(), time.process_time()
    idx = get_index(tenant.pk)
    cold, cold_cpu = time.perf_counter() - t0, time.process_time() - c0
    gc.collect()
    gc.freeze()  # the index is long-lived: keep it out of every future collection
    rss1 = proc_status("VmRSS")
    print(
        f"cold start: index build {cold:.2f} s wall ({cold_cpu:.2f} s CPU in this process); RSS {rss0:.0f} MB → {rss1:.0f} MB "
        f"(index ≈ {rss1 - rss0:.0f} MB, peak {proc_status('VmHWM'):.0f} MB); "
        f"{len(idx.trunks):,} trunks, {sum(len(t) for t, _ in idx.routes.values()):,} "
        f"route entries, {sum(len(p.table) for p in idx.plans.values()):,} rate codes"
    )

    tenant_id, calls = sample_calls(args.samples)
    outcomes = Counter()
    clock, cpu_clock = time.perf_counter_ns, time.thread_time_ns

    def timed_pass():
        """Each call once: (wall ns, CPU ns) per decision, outcomes counted."""
        wall, cpu_ns = [], []
        for trunk_id, ip, number in calls:
            kw = {"trunk": trunk_id} if ip is None else {"source_ip": ip}
            s, c = clock(), cpu_clock()
            outcomes[route_call(tenant, called_number=number, **kw).reason] += 1
            cpu_ns.append(cpu_clock() - c)
            wall.append(clock() - s)
        return sorted(wall), sorted(cpu_ns)

    # Cold routes (issue 16): the first decision for each of these calls (routes never used
    # in this process) against the same calls again; they should cost the same.
    t0 = time.perf_counter()
    cold_wall, cold_cpu_ns = timed_pass()
    first_pass = time.perf_counter() - t0
    rss_first = proc_status("VmRSS")
    warm_wall, warm_cpu_ns = timed_pass()
    for name, first, again in (
        ("wall-clock", cold_wall, warm_wall),
        ("CPU time", cold_cpu_ns, warm_cpu_ns),
    ):
        print(
            f"first use of {len(calls):,} routes vs the same again ({name}): p50 "
            f"{percentile(first, 50) / 1000:.1f} / {percentile(again, 50) / 1000:.1f} µs, "
            f"p99 {percentile(first, 99) / 1000:.1f} / {percentile(again, 99) / 1000:.1f} µs "
            f"(first ÷ again at p99: {percentile(first, 99) / percentile(again, 99):.2f})"
        )
    gc.collect()
    gc.freeze()
    print(
        f"first pass over {len(calls):,} calls: {first_pass:.2f} s; outcomes "
        f"{dict((k, v // 2) for k, v in outcomes.items())}"
    )
    print(
        f"RSS after the first pass {rss_first:.0f} MB, after the second {proc_status('VmRSS'):.0f} MB"
    )

    # throughput: as many decisions as fit in --seconds, one thread (one core). The machine
    # is shared, so both wall-clock and CPU-time rates are reported.
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    end = t0 + args.seconds
    while time.perf_counter() < end:
        for trunk_id, ip, number in calls[:10_000]:
            if ip is None:
                route_call(tenant, called_number=number, trunk=trunk_id)
            else:
                route_call(tenant, called_number=number, source_ip=ip)
        n += 10_000
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"throughput: {n / cpu:,.0f} decisions per CPU-second (one core); "
        f"{n / elapsed:,.0f} per wall-clock second ({n:,} in {elapsed:.2f} s, "
        f"CPU {cpu:.2f} s)"
    )

    # latency of each decision, wall clock and CPU time of this thread
    wall, cpu_lat = [], []
    for trunk_id, ip, number in calls:
        if ip is None:
            s, c = clock(), cpu_clock()
            route_call(tenant, called_number=number, trunk=trunk_id)
            cpu_lat.append(cpu_clock() - c)
            wall.append(clock() - s)
        else:
            s, c = clock(), cpu_clock()
            route_call(tenant, called_number=number, source_ip=ip)
            cpu_lat.append(cpu_clock() - c)
            wall.append(clock() - s)
    for name, lat in (("wall-clock", wall), ("CPU time", cpu_lat)):
        lat.sort()
        print(
            f"latency ({name}): p50 {percentile(lat, 50) / 1000:.1f} µs, p99 {percentile(lat, 99) / 1000:.1f} µs, p99.9 {percentile(lat, 99.9) / 1000:.1f} µs, max {lat[-1] / 1000:.1f} µs"
        )

    # the physical limit: a plain dict probe over the same (trunk, code) keys, same calls
    keys, prefixes, lengths = dict_probe_setup(tenant.pk)
    ip_trunks = {
        ip: int(ip.split(".")[1]) << 16 | int(ip.split(".")[2]) << 8 | int(ip.split(".")[3])
        for _, ip, _ in calls
        if ip is not None
    }
    gc.collect()
    gc.freeze()
    batch = calls[:10_000]
    m, t0, c0 = 0, time.perf_counter(), time.process_time()
    end = t0 + args.seconds
    while time.perf_counter() < end:
        for trunk_id, ip, number in batch:
            dict_probe(keys, prefixes, lengths, ip_trunks, trunk_id, ip, number)
        m += 10_000
    probe_cpu = time.process_time() - c0
    print(
        f"dict probe: {m / probe_cpu:,.0f} probes per CPU-second; the engine's live "
        f"decision costs {(m / probe_cpu) / (n / cpu):.1f}× the probe"
    )

    # explain=True: the first explanation of each call, then the same calls again
    ex = calls[: args.explain_samples]
    for label in ("first", "again"):
        lat = []
        for trunk_id, ip, number in ex:
            kw = {"trunk": trunk_id} if ip is None else {"source_ip": ip}
            s = clock()
            route_call(tenant, called_number=number, explain=True, **kw)
            lat.append(clock() - s)
        lat.sort()
        print(
            f"explain=True ({label}, {len(ex):,} calls): p50 {percentile(lat, 50) / 1e6:.2f} ms, "
            f"p99 {percentile(lat, 99) / 1e6:.2f} ms, max {lat[-1] / 1e6:.2f} ms"
        )

    vis = edit_visibility(tenant, args.visibility_rounds) if args.visibility_rounds else [0.0]
    print(
        "edit → visible in this process (commit in a second process): "
        + ", ".join(f"{v * 1000:.0f} ms" for v in vis)
        + f"; median {statistics.median(vis) * 1000:.0f} ms, max {max(vis) * 1000:.0f} ms"
    )
    print(f"load: {open('/proc/loadavg').read().strip()}")


if __name__ == "__main__":
    main()
