"""Bulk data for the customers side: customers, trunks (one authorized /32 each), rate plans.

Used by ``manage.py seed_large`` and by bench/bench_customer_pages.py. Rows are written with
``bulk_create`` in batches (no per-row save, no history rows: this is load, not an audit
trail), so 10,000 customers, 50,000 trunks and a 100,000-rate plan take well under a minute.
Every row is valid: names unique, networks distinct (no overlap), codes ASCII digits.
"""

import time
from datetime import UTC, datetime
from decimal import Decimal

import phonenumbers
from django.db import connection, transaction

from customers.models import Customer, Rate, RatePlan, Trunk, TrunkNetwork
from routing.dialplan import label_for_code

BATCH = 5000
COUNTRIES = ["AM", "FR", "DE", "GB", "US", "RU", "IT", "ES", "NL", "GE", "TR", "AE", "IN", "BR"]
CODECS = [["PCMA", "PCMU"], ["PCMA"], ["G729", "PCMA"], ["OPUS", "PCMU", "PCMA"]]


def _ip(i):
    """The i-th distinct host of 10.0.0.0/8 (i < 16.7M), as a canonical /32."""
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}/32"


def rate_codes(n):
    """``n`` distinct realistic destination codes: calling code + a 0-4 digit extension."""
    calling_codes = sorted(str(c) for c in phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    codes = list(calling_codes)
    width = 1
    while len(codes) < n:
        for cc in calling_codes:
            for suffix in range(10**width):
                codes.append(f"{cc}{suffix:0{width}d}")
                if len(codes) >= n:
                    return codes
        width += 1
    return codes[:n]


@transaction.atomic
def generate(tenant, *, customers=10_000, trunks=50_000, rates=100_000, plans=20, log=print):
    """Fill ``tenant`` (which must have no customers yet) and return the created counts."""
    if Customer.objects.filter(tenant=tenant).exists():
        raise ValueError(f"Tenant {tenant.slug} already has customers; use a fresh tenant.")
    if not customers:
        trunks = 0
    started = time.perf_counter()

    def note(what, n):
        log(f"  {what:<14} {n:>8,}  ({time.perf_counter() - started:5.1f} s)")

    rate_plans = RatePlan.objects.bulk_create(
        [RatePlan(tenant=tenant, name=f"Plan {p:02d}") for p in range(plans)]
        + ([RatePlan(tenant=tenant, name=f"Wholesale {rates:,} destinations")] if rates else [])
    )
    note("rate plans", len(rate_plans))

    rows = [
        Customer(
            tenant=tenant,
            name=f"Carrier {i:05d}",
            country=COUNTRIES[i % len(COUNTRIES)],
            email=f"noc{i}@carrier{i}.example",
            billing_type=Customer.POSTPAID if i % 3 == 0 else Customer.PREPAID,
            balance=Decimal(i % 500),
            credit_limit=Decimal(1000) if i % 3 == 0 else Decimal(0),
            status=Customer.BLOCKED if i % 50 == 0 else Customer.ACTIVE,
        )
        for i in range(customers)
    ]
    created_customers = Customer.objects.bulk_create(rows, batch_size=BATCH)
    note("customers", len(created_customers))

    trunk_rows = []
    for t in range(trunks):
        customer = created_customers[t % len(created_customers)]
        trunk_rows.append(
            Trunk(
                tenant=tenant,
                customer=customer,
                name=f"sbc-{t // len(created_customers):02d}",
                tech_prefix=str(100 + t % 900),
                rate_plan=rate_plans[t % len(rate_plans)] if t % 4 else None,
                max_concurrent_calls=10 + t % 90,
                codecs=CODECS[t % len(CODECS)],
                status=Trunk.DISABLED if t % 25 == 0 else Trunk.ACTIVE,
            )
        )
    created_trunks = Trunk.objects.bulk_create(trunk_rows, batch_size=BATCH)
    note("trunks", len(created_trunks))

    TrunkNetwork.objects.bulk_create(
        [TrunkNetwork(trunk=trunk, network=_ip(i)) for i, trunk in enumerate(created_trunks)],
        batch_size=BATCH,
    )
    note("networks", len(created_trunks))

    n_rates = 0
    if rates:
        big = rate_plans[-1]
        # Two prices per code (an old, superseded one and the current one) so valid-to and
        # status have something to show; codes cover the world's calling codes.
        codes = rate_codes((rates + 1) // 2)
        old, new = datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
        batch = []
        for k, code in enumerate(codes):
            label = label_for_code(code)
            for since, price in ((old, 0.02 + (k % 90) / 1000), (new, 0.01 + (k % 80) / 1000)):
                if n_rates + len(batch) >= rates:
                    break
                batch.append(
                    Rate(
                        rate_plan=big,
                        code=code,
                        description=label,
                        valid_since=since,
                        rate_per_min=Decimal(f"{price:.6f}"),
                    )
                )
            if len(batch) >= BATCH:
                Rate.objects.bulk_create(batch)
                n_rates += len(batch)
                batch = []
        Rate.objects.bulk_create(batch)
        n_rates += len(batch)
        note("rates", n_rates)
    if connection.vendor == "postgresql":
        # Fresh planner statistics, as autovacuum would gather them on a live system.
        with connection.cursor() as cursor:
            for model in (Customer, Trunk, TrunkNetwork, RatePlan, Rate):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
        note("analyzed", 5)
    return {
        "rate_plans": len(rate_plans),
        "customers": len(created_customers),
        "trunks": len(created_trunks),
        "networks": len(created_trunks),
        "rates": n_rates,
    }
