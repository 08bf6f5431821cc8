"""Dialpeer pages at scale: 100,000 dialpeers and 100,000 rules in one tenant.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vmgate_bench_dialpeers \
        .venv/bin/python bench/bench_dialpeer_pages.py [--runs 60] [--keep]

Creates the database named in DATABASE_URL (it must not be the development one: its name
must contain "bench"), migrates it, generates the data (bench/gen_dialpeers.py), then times
each page in-process through Django's test client (view + ORM + templates, no HTTP server)
and counts its queries, next to the same page for a small tenant (10 dialpeers), to show the
query count does not depend on the data size. Drops the database at the end unless --keep.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import run_on_scratch_database  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--dialpeers", type=int, default=100_000)
    parser.add_argument("--rules", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    run_on_scratch_database(run, args)


def run(args):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vmgate.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.gen_dialpeers import generate
    from customers.models import Customer, Trunk
    from tests.factories import MembershipFactory, TenantFactory

    tenants = {}
    for label, size in (("big", args.dialpeers), ("small", 10)):
        tenant = TenantFactory(name=f"Bench {label}", slug=f"bench-{label}")
        started = time.perf_counter()
        counts = generate(
            tenant,
            dialpeers=size,
            rules=args.rules if label == "big" else 10,
            customers=200 if label == "big" else 2,
            rules_with_targets=1000 if label == "big" else 5,
        )
        print(f"generated {label}: {counts} in {time.perf_counter() - started:.1f} s")
        user = MembershipFactory(tenant=tenant, user__username=f"bench-{label}").user
        tenants[label] = (tenant, user)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # as autovacuum would: index-only scans work

    def pages(tenant):
        customer = Customer.objects.filter(tenant=tenant).order_by("name").first()
        trunk = Trunk.objects.filter(customer=customer).order_by("name").first()
        per_page = 25
        from dialpeers.models import Dialpeer

        total = Dialpeer.objects.filter(tenant=tenant).count()
        last_page = max(1, (total + per_page - 1) // per_page)
        return [
            ("list, first page", "/dialpeers/", {}),
            ("list, filtered by customer", "/dialpeers/", {"customer": customer.pk}),
            ("list, late page", "/dialpeers/", {"page": max(1, last_page - 1)}),
            ("list, search '3740000'", "/dialpeers/", {"q": "3740000"}),
            ("list, search 'armen'", "/dialpeers/", {"q": "armen"}),
            ("add form", "/dialpeers/add/", {}),
            ("rule search, trunk, q=''", "/routing/options/rules/", {"trunk": trunk.pk}),
            (
                "rule search, trunk, q='37400'",
                "/routing/options/rules/",
                {"trunk": trunk.pk, "q": "37400"},
            ),
            (
                "rule search, trunk, q='armen'",
                "/routing/options/rules/",
                {"trunk": trunk.pk, "q": "armen"},
            ),
            (
                "trunk options",
                "/customers/options/trunks/",
                {"customer": customer.pk, "by_customer": "1"},
            ),
        ]

    results = {}
    for label, (tenant, user) in tenants.items():
        client = Client()
        client.force_login(user)
        for name, path, params in pages(tenant):
            response = client.get(path, params)  # warm-up
            assert response.status_code == 200, (name, response.status_code)
            reset_queries()  # each request resets the log: start the capture from zero
            with CaptureQueriesContext(connection) as queries:
                client.get(path, params)
            timings = []
            for _ in range(args.runs if label == "big" else 5):
                started = time.perf_counter()
                response = client.get(path, params)
                timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            p95 = timings[int(len(timings) * 0.95) - 1] if len(timings) >= 20 else timings[-1]
            results[(label, name)] = (len(queries), statistics.median(timings), p95)

    print(f"\nload: {os.getloadavg()}  runs per page: {args.runs}")
    print(f"{'page':36} {'queries big/small':>18} {'p50 ms':>8} {'p95 ms':>8}")
    for name, _, _ in pages(tenants["big"][0]):
        q_big, p50, p95 = results[("big", name)]
        q_small = results[("small", name)][0]
        flag = "" if q_big == q_small else "  <-- query count differs"
        print(f"{name:36} {q_big:>8} / {q_small:<8} {p50:8.1f} {p95:8.1f}{flag}")


if __name__ == "__main__":
    main()
