"""Generate the routing benchmark data set into a dedicated PostgreSQL database.

One tenant ("Bench Operator", slug ``bench``) with, at scale 1: 1,000 customers,
10,000 trunks (each with its own /32, every 10th also a /24 shared by four trunks; tech
prefix = the trunk number as 5 digits), one rate plan with 100,000 rates used by every
trunk, 100 networks with 5,000 VMGateClients (2 SIM slots each), 1,000,000 routing rules
and 1,000,000 dialpeers (100 per trunk, codes drawn from the rate codes; every 10th trunk
also has a catch-all; ~2 % inactive dialpeers, ~2 % inactive rules, ~10 % trunk-scoped
rules, ~10 % priority rules) and ~1,100,000 routing targets. Deterministic (seeded).

The database is dropped and recreated, migrated, then filled with COPY (triggers, and so
the change log and FK checks, off during the load), then ANALYZEd. A login
``bench-operator`` / ``bench-pass-2026`` (operator of the bench tenant) is created for the
API and SIP benchmarks.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vmgate_bench_engine \\
        .venv/bin/python bench/gen_route_data.py [--scale 1.0]

Takes a few minutes at scale 1 on the 2-core machine.
"""

import argparse
import io
import os
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vmgate.settings")

SEED = 2026
BENCH_USER, BENCH_PASSWORD = "bench-operator", "bench-pass-2026"


def recreate_database(url):
    import psycopg2

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not name.startswith("vmgate_bench"):
        raise SystemExit(f"refusing to recreate {name!r}: the name must start with vmgate_bench")
    admin = psycopg2.connect(
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        dbname="postgres",
    )
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def copy(cur, table, columns, rows, batch=200_000):
    """COPY ``rows`` (tuples of already-formatted strings) into ``table``."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    buf, n, total = io.StringIO(), 0, 0
    for row in rows:
        buf.write("\t".join(row))
        buf.write("\n")
        n += 1
        if n == batch:
            buf.seek(0)
            cur.copy_expert(sql, buf)
            total += n
            buf, n = io.StringIO(), 0
    if n:
        buf.seek(0)
        cur.copy_expert(sql, buf)
        total += n
    return total


def n_of(value, scale, minimum=1):
    return max(minimum, int(round(value * scale)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--per-trunk", type=int, default=100, help="dialpeers per trunk")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("set DATABASE_URL to a dedicated PostgreSQL database (vmgate_bench_…)")

    t0 = time.monotonic()
    recreate_database(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    print(f"migrated in {time.monotonic() - t0:.1f}s")

    import phonenumbers

    from routing.dialplan import label_for_code

    rng = random.Random(SEED)
    customers = n_of(1000, args.scale)
    trunks = n_of(10_000, args.scale)
    rates_n = n_of(100_000, args.scale, 100)
    networks = n_of(100, args.scale)
    clients = n_of(5000, args.scale, 2)
    per_trunk = args.per_trunk

    ccs = sorted({str(cc) for cc in phonenumbers.COUNTRY_CODE_TO_REGION_CODE})
    labels = {cc: label_for_code(cc) for cc in ccs}
    codes, seen = [], set()
    for cc in ccs:
        seen.add(cc)
        codes.append((cc, cc))
    while len(codes) < rates_n * 0.9:
        cc = rng.choice(ccs)
        code = cc + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 5)))
        if len(code) <= 15 and code not in seen:
            seen.add(code)
            codes.append((code, cc))
    code_list = [c for c, _ in codes]

    stats = {}
    with connection.cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # no triggers, no FK checks
        stats["tenant"] = copy(
            cur,
            "vmgate_tenant",
            ["id", "name", "slug", "currency"],
            [("1", "Bench Operator", "bench", "USD")],
        )
        countries = ["AM", "IT", "DE", "FR", "GB", "US", "ES", "NL", "RU", "TR"]

        def customer_rows():
            for i in range(1, customers + 1):
                postpaid = i % 2 == 0
                yield (
                    str(i),
                    f"Carrier {i:05d}",
                    countries[i % len(countries)],
                    "",
                    "",
                    "postpaid" if postpaid else "prepaid",
                    "1000",
                    "500" if postpaid else "0",
                    "f",
                    "f",
                    "0",
                    "active",
                    "1",
                )

        stats["customers"] = copy(
            cur,
            "customers_customer",
            [
                "id",
                "name",
                "country",
                "email",
                "phone",
                "billing_type",
                "balance",
                "credit_limit",
                "credit_unlimited",
                "overdraft_allowed",
                "overdraft_limit",
                "status",
                "tenant_id",
            ],
            customer_rows(),
        )
        copy(
            cur,
            "customers_rateplan",
            ["id", "name", "currency", "status", "tenant_id"],
            [("1", "Bench retail", "USD", "active", "1")],
        )

        def rate_rows():
            rid = 0
            for code, cc in codes:
                rid += 1
                price = f"{rng.randint(100, 5000) / 10000:.4f}"
                yield (
                    str(rid),
                    code,
                    labels[cc],
                    "2026-01-01 00:00:00+00",
                    price,
                    "0",
                    "0",
                    "1",
                    "1",
                )
            # ~10 % of the codes get a newer price from July
            for code, cc in codes[: rates_n - len(codes)]:
                rid += 1
                price = f"{rng.randint(100, 5000) / 10000:.4f}"
                yield (
                    str(rid),
                    code,
                    labels[cc],
                    "2026-07-01 00:00:00+00",
                    price,
                    "0",
                    "0",
                    "1",
                    "1",
                )

        stats["rates"] = copy(
            cur,
            "customers_rate",
            [
                "id",
                "code",
                "description",
                "valid_since",
                "rate_per_min",
                "connection_fee",
                "connection_sec",
                "billing_block_sec",
                "rate_plan_id",
            ],
            rate_rows(),
        )

        def trunk_rows():
            for i in range(1, trunks + 1):
                yield (
                    str(i),
                    f"trunk-{i:05d}",
                    f"{i:05d}",
                    "100",
                    '["PCMA", "PCMU"]',
                    "active",
                    str((i - 1) * customers // trunks + 1),
                    "1",
                    "1",
                )

        stats["trunks"] = copy(
            cur,
            "customers_trunk",
            [
                "id",
                "name",
                "tech_prefix",
                "max_concurrent_calls",
                "codecs",
                "status",
                "customer_id",
                "rate_plan_id",
                "tenant_id",
            ],
            trunk_rows(),
        )

        def network_rows():
            nid = 0
            for i in range(1, trunks + 1):
                nid += 1
                yield (str(nid), f"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}/32", str(i))
                if i % 10 == 0:
                    nid += 1
                    yield (str(nid), f"172.20.{(i // 40) % 256}.0/24", str(i))

        stats["trunk networks"] = copy(
            cur, "customers_trunknetwork", ["id", "network", "trunk_id"], network_rows()
        )
        copy(
            cur,
            "routing_network",
            ["id", "name", "tenant_id"],
            [(str(i), f"Site {i:03d}", "1") for i in range(1, networks + 1)],
        )

        def client_rows():
            for i in range(1, clients + 1):
                r = rng.random()
                status = "ready" if r < 0.95 else ("no_dongle" if r < 0.98 else "off")
                yield (
                    str(i),
                    f"gw-{i:05d}",
                    f"node-{i:05d}",
                    status,
                    str(rng.randint(0, 8)),
                    f"sip:10.8.{i >> 8}.{i & 255}:5060",
                    str((i - 1) * networks // clients + 1),
                    "1",
                )

        stats["clients"] = copy(
            cur,
            "routing_vmgateclient",
            [
                "id",
                "name",
                "node_id",
                "status",
                "active_calls",
                "sip_uri",
                "network_id",
                "tenant_id",
            ],
            client_rows(),
        )
        stats["sim slots"] = copy(
            cur,
            "routing_simslot",
            ["id", "position", "enabled", "label", "client_id"],
            (
                (str(2 * c - 2 + p), str(p), "t" if rng.random() < 0.98 else "f", "", str(c))
                for c in range(1, clients + 1)
                for p in (1, 2)
            ),
        )

        rule_rows, dp_rows, target_rows = [], [], []
        tid = 0
        t1 = time.monotonic()
        for t in range(1, trunks + 1):
            customer = (t - 1) * customers // trunks + 1
            picked = rng.sample(code_list, per_trunk)
            if t % 10 == 0:
                picked[-1] = ""
            for j, code in enumerate(picked):
                rid = (t - 1) * per_trunk + j + 1
                cc = next((code[:n] for n in (3, 2, 1) if code[:n] in labels), "")
                label = labels.get(cc, "") if code else "* (any)"
                priority_mode = rng.random() < 0.1
                rule_rows.append(
                    (
                        str(rid),
                        code,
                        label,
                        "priority" if priority_mode else "weight",
                        "t" if rng.random() < 0.98 else "f",
                        "1",
                        str(t) if rng.random() < 0.1 else "\\N",
                    )
                )
                dp_rows.append(
                    (
                        str(rid),
                        f"dp-{rid:07d}",
                        "t" if rng.random() < 0.98 else "f",
                        str(customer),
                        str(rid),
                        "1",
                        str(t),
                    )
                )
                r = rng.random()
                tid += 1
                if r < 0.9:
                    target = ("\\N", "\\N", str(rng.randint(1, clients)))
                elif r < 0.95:
                    target = (str(rng.randint(1, networks)), "\\N", "\\N")
                else:
                    target = ("\\N", str(rng.randint(1, 2 * clients)), "\\N")
                target_rows.append(
                    (
                        str(tid),
                        "0",
                        str(rng.randint(1, 100)),
                        "t",
                        target[0],
                        str(rid),
                        target[1],
                        target[2],
                    )
                )
                if priority_mode:
                    tid += 1
                    target_rows.append(
                        (
                            str(tid),
                            "1",
                            "1",
                            "t",
                            "\\N",
                            str(rid),
                            "\\N",
                            str(rng.randint(1, clients)),
                        )
                    )
            if len(rule_rows) >= 200_000 or t == trunks:
                copy(
                    cur,
                    "routing_routingrule",
                    ["id", "code", "label", "assignment", "is_active", "tenant_id", "trunk_id"],
                    rule_rows,
                )
                copy(
                    cur,
                    "dialpeers_dialpeer",
                    ["id", "name", "is_active", "customer_id", "rule_id", "tenant_id", "trunk_id"],
                    dp_rows,
                )
                copy(
                    cur,
                    "routing_routingtarget",
                    [
                        "id",
                        "priority",
                        "weight",
                        "is_active",
                        "network_id",
                        "rule_id",
                        "sim_slot_id",
                        "client_id",
                    ],
                    target_rows,
                )
                stats["rules"] = stats.get("rules", 0) + len(rule_rows)
                stats["dialpeers"] = stats.get("dialpeers", 0) + len(dp_rows)
                stats["targets"] = stats.get("targets", 0) + len(target_rows)
                rule_rows, dp_rows, target_rows = [], [], []
        print(f"rules/dialpeers/targets copied in {time.monotonic() - t1:.1f}s")
        cur.execute("SET session_replication_role = origin")
        # The triggers were off: count each customer's trunks (Customer.trunk_count).
        from customers.trunk_count import RECOUNT_SQL

        cur.execute(RECOUNT_SQL)
        # ... and fill the triggers' copies that guard the invariants (a rule's code on its
        # dialpeers, a trunk's tenant and prefix on its networks).
        from customers.ingress_guard import BACKFILL_SQL as INGRESS_BACKFILL
        from dialpeers.rule_code import BACKFILL_SQL as CODE_BACKFILL

        cur.execute(CODE_BACKFILL)
        cur.execute(INGRESS_BACKFILL)
        for table in (
            "vmgate_tenant",
            "customers_customer",
            "customers_rateplan",
            "customers_rate",
            "customers_trunk",
            "customers_trunknetwork",
            "routing_network",
            "routing_vmgateclient",
            "routing_simslot",
            "routing_routingrule",
            "routing_routingtarget",
            "dialpeers_dialpeer",
        ):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        cur.execute("ANALYZE")

    from django.contrib.auth import get_user_model

    from vmgate.models import Membership, Tenant

    user = get_user_model().objects.create_user(BENCH_USER, password=BENCH_PASSWORD)
    Membership.objects.create(user=user, tenant=Tenant.objects.get(slug="bench"))
    for name, n in stats.items():
        print(f"{name:>16}: {n:>9,}")
    print(f"login {BENCH_USER} / {BENCH_PASSWORD}; total {time.monotonic() - t0:.1f}s")


if __name__ == "__main__":
    main()
