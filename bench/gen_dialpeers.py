"""Bench data for the dialpeer pages: one tenant with 100,000 dialpeers and 100,000 rules.

Usable as a module (``generate(tenant, ...)`` inside a configured Django) or through
``bench/bench_dialpeer_pages.py``, which creates its own database. Rows are written with
``bulk_create`` (no history records: this is bench data, not operator edits).

Shape (defaults): 200 customers × 5 trunks = 1,000 trunks; 100,000 rules with distinct codes
(country code + 6 digits, so every label is a real country), one in ten scoped to the trunk
that links it; 100,000 dialpeers, 100 per trunk, each on its own rule (so no trunk routes a
code twice), nine in ten active; one network with 20 VMGateClients targeted by 1,000 rules.
"""

from itertools import cycle

COUNTRY_CODES = ["374", "39", "44", "49", "33", "34", "7", "1", "380", "995", "90", "48"]


def generate(
    tenant,
    *,
    dialpeers=100_000,
    rules=100_000,
    customers=200,
    trunks_per_customer=5,
    rules_with_targets=1_000,
    batch=5_000,
):
    """Create the rows in ``tenant``; returns a dict of counts."""
    from customers.models import Customer, Trunk, TrunkNetwork
    from dialpeers.models import Dialpeer
    from routing.dialplan import label_for_code
    from routing.models import Network, RoutingRule, RoutingTarget, VMGateClient

    assert dialpeers <= rules, "each dialpeer links its own rule"
    slug = tenant.slug
    custs = Customer.objects.bulk_create(
        [
            Customer(tenant=tenant, name=f"{slug} carrier {i:04d}", country="AM", balance=100)
            for i in range(customers)
        ],
        batch_size=batch,
    )
    trunks = Trunk.objects.bulk_create(
        [
            Trunk(
                tenant=tenant,
                customer=c,
                name=f"trunk-{t}",
                tech_prefix=f"{(ci * trunks_per_customer + t) % 9000 + 1000}",
            )
            for ci, c in enumerate(custs)
            for t in range(trunks_per_customer)
        ],
        batch_size=batch,
    )
    TrunkNetwork.objects.bulk_create(
        [
            TrunkNetwork(trunk=t, network=f"10.{i // 250 % 250}.{i % 250}.0/24")
            for i, t in enumerate(trunks)
        ],
        batch_size=batch,
    )
    rule_rows = []
    codes = cycle(COUNTRY_CODES)
    for i in range(rules):
        code = f"{next(codes)}{i:06d}"
        scoped_trunk = trunks[i % len(trunks)] if i < dialpeers and i % 10 == 0 else None
        rule_rows.append(
            RoutingRule(
                tenant=tenant, code=code, label=label_for_code(code[:6]), trunk=scoped_trunk
            )
        )
    rule_rows = RoutingRule.objects.bulk_create(rule_rows, batch_size=batch)
    network = Network.objects.create(tenant=tenant, name=f"{slug} GSM")
    clients = VMGateClient.objects.bulk_create(
        [
            VMGateClient(
                tenant=tenant,
                network=network,
                name=f"gw-{i}",
                node_id=f"{slug}-node-{i}",
                sip_uri=f"sip:10.8.0.{i + 1}:5060",
            )
            for i in range(20)
        ]
    )
    RoutingTarget.objects.bulk_create(
        [
            RoutingTarget(rule=rule_rows[i], client=clients[i % len(clients)])
            for i in range(min(rules_with_targets, rules))
        ],
        batch_size=batch,
    )
    dp_rows = []
    for i in range(dialpeers):
        trunk = trunks[i % len(trunks)]
        dp_rows.append(
            Dialpeer(
                tenant=tenant,
                name=f"DP {i:06d} {trunk.name}",
                customer_id=trunk.customer_id,
                trunk=trunk,
                rule=rule_rows[i],
                is_active=i % 10 != 9,
            )
        )
        if len(dp_rows) >= batch:
            Dialpeer.objects.bulk_create(dp_rows)
            dp_rows = []
    Dialpeer.objects.bulk_create(dp_rows)
    return {
        "customers": len(custs),
        "trunks": len(trunks),
        "rules": len(rule_rows),
        "dialpeers": dialpeers,
    }
