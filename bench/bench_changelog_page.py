"""The tenant-wide Change log at scale: ~600,000 history records in one tenant (12 kinds ×
50,000), plus another tenant's 120,000 interleaved with them.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vmgate_bench_changelog \
        .venv/bin/python bench/bench_changelog_page.py [--runs 30] [--per-kind 50000] [--keep]

Creates the database named in DATABASE_URL (its name must contain "bench"), migrates it,
builds a small routing world per tenant with the ORM (so every kind has real rows and
history), then multiplies each kind's history records with bulk inserts (~10,000 objects
per kind, 5 "changed" records each, times spread over a year, one in 5,000 a deletion, one
in 1,000 by the operator), ANALYZEs, and times the
Change log through Django's test client as a logged-in operator: the first page, a kind
filter, an action filter, a who filter, and a page a year back (by position). Prints median
and p95 wall time and the query count next to the small tenant's. Drops the database at the
end unless --keep.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import run_on_scratch_database  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--per-kind", type=int, default=50_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    run_on_scratch_database(run, args)


def multiply(tenant, per_kind, user, start):
    """Copy every history record of ``tenant`` until each kind has ``per_kind`` of them."""
    from vmgate.views_changelog import KINDS

    for kind in KINDS:
        history_model = kind.model.history.model
        seeds = list(kind.history(tenant))
        assert seeds, f"no {kind.key} history to multiply"
        columns = [
            f.attname
            for f in history_model._meta.concrete_fields
            if f.attname not in ("history_id", "history_date", "history_type", "history_user_id")
        ]
        batch = []
        for i in range(per_kind - len(seeds)):
            seed = seeds[i % len(seeds)]
            row = history_model(**{c: getattr(seed, c) for c in columns})
            # ~10,000 objects per kind with 5 versions each (ids no live row has), children
            # under the seed's parent: the shape of a real log, not one object's 50,000.
            row.id = 10_000_000 * (1 + tenant.pk) + i // 5
            row.history_date = start + timedelta(seconds=i * 365 * 86400 / per_kind)
            row.history_type = "-" if i % 5000 == 4999 else "~"
            row.history_user_id = user.pk if i % 1000 == 0 else None
            batch.append(row)
            if len(batch) == 5000:
                history_model.objects.bulk_create(batch)
                batch = []
        history_model.objects.bulk_create(batch)


def measure(client, params, runs):
    from django.db import connection, reset_queries
    from django.test.utils import override_settings

    times = []
    for i in range(runs + 2):
        with override_settings(DEBUG=True):
            reset_queries()
            t0 = time.perf_counter()
            response = client.get("/changes/", params)
            elapsed = time.perf_counter() - t0
            queries = len(connection.queries)
        assert response.status_code == 200, response.status_code
        assert b"Not a position" not in response.content
        if i >= 2:
            times.append(elapsed * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(0.95 * len(times)))], queries


def run(args):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vmgate.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from customers.models import BalanceEntry
    from tests.factories import (
        MembershipFactory,
        RoutingCheckFactory,
        SimSlotFactory,
        TenantFactory,
        build_imports,
        build_route_world,
    )

    call_command("migrate", verbosity=0)
    big = TenantFactory(name="Big", slug="big")
    small = TenantFactory(name="Small", slug="small")
    noise = TenantFactory(name="Noise", slug="noise")
    users = {}
    for tenant in (big, small, noise):
        users[tenant.slug] = MembershipFactory(
            tenant=tenant, role="operator", user__username=f"{tenant.slug}-op"
        ).user
        world = build_route_world(tenant)
        SimSlotFactory(client=world["gw_a"], position=1)
        RoutingCheckFactory(tenant=tenant, trunk=world["trunk"], name="check")
        BalanceEntry(customer=world["customer"], kind="payment", amount=Decimal("5")).save()
        build_imports(tenant)  # the log's "Import" entries
    start = datetime(2025, 11, 1, tzinfo=UTC)
    t0 = time.perf_counter()
    multiply(big, args.per_kind, users["big"], start)
    multiply(noise, args.per_kind // 5, users["noise"], start)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    print(f"history generated in {time.perf_counter() - t0:.0f} s")

    year_back = (start + timedelta(days=30)).isoformat()
    pages = [
        ("first page", {}),
        ("kind: SIM slot", {"kind": "simslot"}),
        ("action: deleted", {"action": "deleted"}),
        ("who: the operator", {"who": None}),
        ("a page 11 months back", {"before": f"{year_back}~customer~1"}),
    ]
    print(f"{'page':<24} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'small':>6}")
    for name, params in pages:
        results = []
        for slug in ("big", "small"):
            client = Client()
            client.force_login(users[slug])
            p = dict(params)
            if "who" in p:
                p["who"] = users[slug].username
            results.append(measure(client, p, args.runs if slug == "big" else 3))
        (p50, p95, q), (_, _, q_small) = results
        print(f"{name:<24} {p50:8.1f} {p95:8.1f} {q:8d} {q_small:6d}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
