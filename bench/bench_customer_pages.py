"""Page benchmark: customers, trunks and destinations lists at operator scale.

Renders each list (first page, a filtered page, a late page) through the Django test client
as a logged-in operator, N times, and reports median / p95 wall time and the query count.
It also renders the same pages for a 10-row tenant and checks the query counts are equal.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vmgate_bench_customers \\
        python bench/bench_customer_pages.py [--runs 30] [--skip-seed]

It migrates the database, seeds tenant "bench" (10,000 customers, 50,000 trunks, a
100,000-rate plan) and tenant "bench-small" (10 of each) unless they exist, then measures.
Use a dedicated database and drop it afterwards. Not part of the test suite.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vmgate.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from customers.models import Customer, RatePlan  # noqa: E402
from vmgate.models import Membership, Tenant  # noqa: E402


def seed(slug, **sizes):
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant and Customer.objects.filter(tenant=tenant).exists():
        return tenant
    t0 = time.perf_counter()
    call_command("seed_large", tenant=slug, **sizes)
    print(f"seeded {slug} in {time.perf_counter() - t0:.1f} s")
    return Tenant.objects.get(slug=slug)


def pages(tenant):
    big_plan = RatePlan.objects.filter(tenant=tenant).order_by("-pk").first()
    small_plan = RatePlan.objects.filter(tenant=tenant).order_by("pk").first()
    customers = reverse("customers:customer_list")
    trunks = reverse("customers:trunk_list")
    rates = reverse("customers:rate_list", args=[big_plan.pk])
    n_customers = Customer.objects.filter(tenant=tenant).count()
    last = max(1, -(-n_customers // 25))
    from customers.models import Rate, Trunk

    last_trunks = max(1, -(-Trunk.objects.filter(tenant=tenant).count() // 25))
    last_rates = max(1, -(-Rate.objects.filter(rate_plan=big_plan).count() // 25))
    return [
        ("customers first", customers, {}),
        (
            "customers filtered",
            customers,
            {"q": "carrier 0", "status": "active", "sort": "-balance"},
        ),
        ("customers late", customers, {"page": last}),
        ("customers late sorted", customers, {"page": last, "sort": "-trunk_count"}),
        ("trunks first", trunks, {}),
        ("trunks filtered", trunks, {"status": "active", "rate_plan": small_plan.pk, "q": "sbc"}),
        ("trunks late", trunks, {"page": last_trunks}),
        ("destinations first", rates, {}),
        ("destinations filtered", rates, {"code": "21", "valid_at": "2026-06-01"}),
        ("destinations broad filter", rates, {"code": "2", "valid_at": "2026-06-01"}),
        ("destinations late", rates, {"page": last_rates}),
    ]


def p95_of(values):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]


def measure(client, url, params, runs):
    times, cpu, sql = [], [], []
    queries = None
    for i in range(runs + 2):
        with CaptureQueriesContext(connection) as ctx:
            t0, c0 = time.perf_counter(), time.process_time()
            response = client.get(url, params)
            elapsed, used = time.perf_counter() - t0, time.process_time() - c0
        assert response.status_code == 200, (url, params, response.status_code)
        if i >= 2:  # two warm-up runs
            times.append(elapsed * 1000)
            cpu.append(used * 1000)
            sql.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
        queries = len(ctx)
    return (
        statistics.median(times),
        p95_of(times),
        queries,
        statistics.median(cpu),
        statistics.median(sql),
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--skip-seed", action="store_true")
    args = parser.parse_args()
    if "bench" not in connection.settings_dict["NAME"]:
        sys.exit("Use a dedicated bench database (its name must contain 'bench').")
    call_command("migrate", verbosity=0)
    big = seed("bench") if not args.skip_seed else Tenant.objects.get(slug="bench")
    small = seed("bench-small", customers=10, trunks=10, rates=10, plans=1)
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    results = {}
    for tenant in (small, big):
        client = Client()
        client.force_login(Membership.objects.get(tenant=tenant).user)
        for name, url, params in pages(tenant):
            results[(tenant.slug, name)] = measure(client, url, params, args.runs)
    print(
        f"{'page':<26}{'median ms':>10}{'p95 ms':>9}{'app CPU':>9}{'SQL ms':>8}"
        f"{'queries':>9}{'q@10 rows':>11}"
    )
    ok = True
    for name, *_ in pages(big):
        med, p95, q, cpu, sql = results[("bench", name)]
        q_small = results[("bench-small", name)][2]
        flag = "" if (p95 <= 150 and q == q_small) else "  <-- over target"
        ok = ok and not flag
        print(f"{name:<26}{med:>10.1f}{p95:>9.1f}{cpu:>9.1f}{sql:>8.1f}{q:>9}{q_small:>11}{flag}")
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    print("all pages within target" if ok else "some pages over target")


if __name__ == "__main__":
    main()
