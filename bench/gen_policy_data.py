"""Put routing policy (SPEC §9) on the routing benchmark's data set, or take it off again,
so that ``bench/route_bench.py`` measures decisions with and without it (issue 18).

``--on`` gives the ``bench`` tenant (bench/gen_route_data.py):

* one translation set on every trunk's ingress, of three rules as a carrier's would be
  (``00…`` international → strip, ``+``-less national ``0…`` → 374…, a stop-less
  normalisation rule); the bench numbers mostly match none, so every rule is tried;
* one 10,000-entry deny list (called number; 9,000 prefixes and 1,000 exact numbers,
  none of them a bench code's prefix) on every trunk;
* a schedule (Asia/Yerevan, weekdays 08:00–20:00 and Saturday 10:00–02:00) on every 10th
  rule, so 10 % of rules are judged by it at each decision's time.

``--off`` removes all of it. Both write through SQL in one transaction; the change feed's
triggers log what changed, so a running route service follows (a route_bench run builds
its index afresh anyway).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vmgate_bench_engine \\
        .venv/bin/python bench/gen_policy_data.py --on|--off
"""

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vmgate.settings")

SET_NAME, LIST_NAME, SCHEDULE_NAME = "bench ingress", "bench premium", "bench hours"
RULES = [
    (1, "00([0-9]{6,22})", r"\1", True),
    (2, "0([1-9][0-9]{5,20})", r"374\1", True),
    (3, "([0-9]{4,22})999", r"\g<1>0", False),
]


def policy_off(cur, tenant_id):
    cur.execute(
        "UPDATE customers_trunk SET ingress_translation_id = NULL WHERE tenant_id = %s",
        [tenant_id],
    )
    cur.execute(
        "UPDATE routing_routingrule SET schedule_id = NULL "
        "WHERE tenant_id = %s AND schedule_id IS NOT NULL",
        [tenant_id],
    )
    cur.execute(
        "DELETE FROM customers_trunknumberlist WHERE trunk_id IN "
        "(SELECT id FROM customers_trunk WHERE tenant_id = %s)",
        [tenant_id],
    )
    for table, fk, parent in (
        ("routing_translationrule", "translation_set_id", "routing_translationset"),
        ("routing_numberlistentry", "number_list_id", "routing_numberlist"),
        ("routing_schedulewindow", "schedule_id", "routing_schedule"),
    ):
        cur.execute(
            f"DELETE FROM {table} WHERE {fk} IN (SELECT id FROM {parent} WHERE tenant_id = %s)",
            [tenant_id],
        )
        cur.execute(f"DELETE FROM {parent} WHERE tenant_id = %s", [tenant_id])


def policy_on(cur, tenant_id):
    rng = random.Random(18)
    cur.execute(
        "INSERT INTO routing_translationset (tenant_id, name) VALUES (%s, %s) RETURNING id",
        [tenant_id, SET_NAME],
    )
    (set_id,) = cur.fetchone()
    for position, match, replace, stop in RULES:
        cur.execute(
            "INSERT INTO routing_translationrule (translation_set_id, position, match, "
            '"replace", stop) VALUES (%s, %s, %s, %s, %s)',
            [set_id, position, match, replace, stop],
        )
    cur.execute(
        "UPDATE customers_trunk SET ingress_translation_id = %s WHERE tenant_id = %s",
        [set_id, tenant_id],
    )
    cur.execute(
        "INSERT INTO routing_numberlist (tenant_id, name, kind, applies_to) "
        "VALUES (%s, %s, 'deny', 'called') RETURNING id",
        [tenant_id, LIST_NAME],
    )
    (list_id,) = cur.fetchone()
    # Premium-rate style ranges the bench codes never start with: 8xx/9xx service numbers
    # seven to nine digits long (the bench codes are country codes of up to ~7 digits), so
    # a decision probes three prefix lengths and the exact set and is not refused.
    values = set()
    while len(values) < 10_000:
        lead = rng.choice(["8001", "8002", "9000", "9001", "9009", "8090"])
        k = rng.choice((2, 3, 4))  # prefixes of 7, 8 and 9 digits
        values.add((lead + str(rng.randrange(10**k, 10 ** (k + 1))), len(values) >= 9_000))
    cur.executemany(
        "INSERT INTO routing_numberlistentry (number_list_id, value, match, note) "
        "VALUES (%s, %s, %s, '')",
        [
            (list_id, v + ("0" * 4 if exact else ""), "exact" if exact else "prefix")
            for v, exact in values
        ],
    )
    cur.execute(
        "INSERT INTO customers_trunknumberlist (trunk_id, number_list_id) "
        "SELECT id, %s FROM customers_trunk WHERE tenant_id = %s",
        [list_id, tenant_id],
    )
    cur.execute(
        "INSERT INTO routing_schedule (tenant_id, name, timezone) VALUES (%s, %s, "
        "'Asia/Yerevan') RETURNING id",
        [tenant_id, SCHEDULE_NAME],
    )
    (schedule_id,) = cur.fetchone()
    for days, start, end in (("[1, 2, 3, 4, 5]", "08:00", "20:00"), ("[6]", "10:00", "02:00")):
        cur.execute(
            'INSERT INTO routing_schedulewindow (schedule_id, weekdays, start, "end") '
            "VALUES (%s, %s::jsonb, %s, %s)",
            [schedule_id, days, start, end],
        )
    cur.execute(
        "UPDATE routing_routingrule SET schedule_id = %s WHERE tenant_id = %s AND id %% 10 = 0",
        [schedule_id, tenant_id],
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--on", action="store_true")
    group.add_argument("--off", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection, transaction

    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT id FROM vmgate_tenant WHERE slug = 'bench'")
        (tenant_id,) = cur.fetchone()
        policy_off(cur, tenant_id)
        if args.on:
            policy_on(cur, tenant_id)
    print(f"routing policy {'on' if args.on else 'off'} in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
