"""Routing pages at scale: 1,000 networks, 20,000 clients, 100,000 rules with 1–3 targets.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vmgate_bench_routingui \
        .venv/bin/python bench/bench_routing_pages.py [--runs 40] [--keep]

Creates the database named in DATABASE_URL (its name must contain "bench"), migrates it,
generates the data (bench/gen_routing.py), then times each page in-process through
Django's test client (view + ORM + templates, no HTTP server) and counts its queries, next
to the same page for a small tenant (a handful of rows), to show the query count does not
depend on the data size. Drops the database at the end unless --keep.
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
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--rules", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=20_000)
    parser.add_argument("--networks", type=int, default=1_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="use the kept database as is")
    args = parser.parse_args()

    run_on_scratch_database(run, args, reuse=args.reuse)


def measure(client, url, runs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        assert client.get(url).status_code == 200, url
    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, url
    times.sort()
    p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
    return statistics.median(times), p95, len(ctx.captured_queries)


def run(args):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vmgate.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    settings.ALLOWED_HOSTS = ["*"]
    from bench.gen_routing import generate
    from routing.models import RoutingRule
    from vmgate.models import Membership, Tenant

    User = get_user_model()  # noqa: N806
    call_command("migrate", verbosity=0)
    if not args.reuse:
        started = time.perf_counter()
        big = Tenant.objects.create(name="Bench big", slug="bench-big")
        counts = generate(big, rules=args.rules, clients=args.clients, networks=args.networks)
        small = Tenant.objects.create(name="Bench small", slug="bench-small")
        generate(small, rules=60, clients=40, networks=4, customers=2, trunks_per_customer=3)
        with connection.cursor() as cur:
            # What autovacuum does to a live table: statistics and the visibility map
            # (index-only scans need it).
            cur.execute("VACUUM ANALYZE")
        print(f"generated {counts} in {time.perf_counter() - started:.1f} s")
        for t in (big, small):
            user = User.objects.create_user(f"op-{t.slug}", password="x")
            Membership.objects.create(user=user, tenant=t, role="operator")

    rows = []
    for slug in ("bench-big", "bench-small"):
        tenant = Tenant.objects.get(slug=slug)
        client = Client()
        client.force_login(User.objects.get(username=f"op-{slug}"))
        n_rules = RoutingRule.objects.filter(tenant=tenant).count()
        late = max(1, n_rules // 25 - 10)
        rule3 = (
            RoutingRule.objects.filter(tenant=tenant, code__startswith="374").order_by("id").first()
        )
        rules = reverse("routing:routingrule_list")
        pages = [
            ("rules list, first page", rules),
            ("rules list, code prefix 3740", f"{rules}?q=3740"),
            ("rules list, label search", f"{rules}?q=armen"),
            ("rules list, no traffic filter", f"{rules}?status=no_traffic"),
            (f"rules list, page {late}", f"{rules}?page={late}"),
            ("targets page of a rule", reverse("routing:routingrule_targets", args=[rule3.pk])),
            ("rule detail", reverse("routing:routingrule_detail", args=[rule3.pk])),
            ("rule edit form", reverse("routing:routingrule_edit", args=[rule3.pk])),
            ("clients list, first page", reverse("routing:vmgateclient_list")),
            ("networks list, first page", reverse("routing:network_list")),
            ("trunk search ?q=trunk-1", reverse("customers:trunk_options") + "?q=trunk-1"),
            (
                "client options ?q=gw-1",
                reverse("routing:target_options") + "?kind=client&q=gw-1",
            ),
        ]
        for name, url in pages:
            p50, p95, queries = measure(client, url, args.runs)
            rows.append((slug, name, p50, p95, queries))

    load = os.getloadavg()
    print(f"\nload average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; runs per page: {args.runs}")
    print(f"{'tenant':<12} {'page':<34} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    for slug, name, p50, p95, queries in rows:
        print(f"{slug:<12} {name:<34} {p50:8.1f} {p95:8.1f} {queries:8d}")


if __name__ == "__main__":
    main()
