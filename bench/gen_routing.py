"""Bench data for the routing pages: the target inventory and 100,000 routing rules.

Usable as a module (``generate(tenant, ...)`` inside a configured Django) or through
``bench/bench_routing_pages.py``, which creates its own database. Rows are written with
``bulk_create`` in batches (no history records: bench data, not operator edits).

Shape (defaults): 1,000 networks; 20,000 VMGateClients (20 per network; 80 % ready, 10 %
no dongle, 10 % off) with 2 SIM slots each (1 in 10 slots disabled); 100 customers × 20
trunks = 2,000 trunks; 100,000 rules (one catch-all, the rest distinct codes under real
country codes; 1 in 3 Priority, 1 in 10 scoped to a trunk, 1 in 20 inactive), each with
1–3 targets cycling through client / network / SIM slot (1 in 20 inactive); 1 in 50 rules
gets no target at all, so the "carries no traffic" state is exercised.
"""

import random

COUNTRY_CODES = ["374", "39", "44", "49", "33", "34", "7", "1", "380", "995", "90", "48"]


def _batched(model, rows, batch):
    out = []
    for start in range(0, len(rows), batch):
        out.extend(model.objects.bulk_create(rows[start : start + batch]))
    return out


def generate(
    tenant,
    *,
    networks=1_000,
    clients=20_000,
    slots_per_client=2,
    rules=100_000,
    customers=100,
    trunks_per_customer=20,
    batch=10_000,
    seed=4,
):
    """Create the rows in ``tenant``; returns a dict of counts."""
    from customers.models import Customer, Trunk
    from routing.dialplan import label_for_code
    from routing.models import Network, RoutingRule, RoutingTarget, SimSlot, VMGateClient

    rnd = random.Random(seed)
    slug = tenant.slug
    nets = _batched(
        Network,
        [Network(tenant=tenant, name=f"{slug} site {i:04d}") for i in range(networks)],
        batch,
    )
    statuses = ["ready"] * 8 + ["no_dongle", "off"]
    client_rows = _batched(
        VMGateClient,
        [
            VMGateClient(
                tenant=tenant,
                network=nets[i % networks],
                name=f"gw-{i:05d}",
                node_id=f"{slug}-node-{i:05d}",
                status=statuses[i % 10],
                active_calls=i % 7,
                sip_uri=f"sip:10.{i // 62500 % 250}.{i // 250 % 250}.{i % 250 + 1}:5060",
            )
            for i in range(clients)
        ],
        batch,
    )
    slot_rows = _batched(
        SimSlot,
        [
            SimSlot(client=c, position=p + 1, enabled=(i * slots_per_client + p) % 10 != 9)
            for i, c in enumerate(client_rows)
            for p in range(slots_per_client)
        ],
        batch,
    )
    custs = _batched(
        Customer,
        [
            Customer(tenant=tenant, name=f"{slug} carrier {i:03d}", country="AM", balance=100)
            for i in range(customers)
        ],
        batch,
    )
    trunks = _batched(
        Trunk,
        [
            Trunk(
                tenant=tenant,
                customer=c,
                name=f"trunk-{t:02d}",
                tech_prefix=f"{(ci * trunks_per_customer + t) % 9000 + 1000}",
            )
            for ci, c in enumerate(custs)
            for t in range(trunks_per_customer)
        ],
        batch,
    )
    labels = {cc: label_for_code(cc) for cc in COUNTRY_CODES}
    rule_rows = [RoutingRule(tenant=tenant, code="", label="* (any)")]
    for i in range(1, rules):
        cc = COUNTRY_CODES[i % len(COUNTRY_CODES)]
        rule_rows.append(
            RoutingRule(
                tenant=tenant,
                code=f"{cc}{i:06d}",
                label=labels[cc],
                assignment="priority" if i % 3 == 0 else "weight",
                trunk=trunks[i % len(trunks)] if i % 10 == 0 else None,
                is_active=i % 20 != 19,
            )
        )
    rule_rows = _batched(RoutingRule, rule_rows, batch)
    target_rows = []
    n_targets = 0
    for i, rule in enumerate(rule_rows):
        if i % 50 == 49:
            continue
        for k in range(rnd.randint(1, 3)):
            kind = (i + k) % 3
            kw = {}
            if kind == 0:
                kw["client"] = client_rows[rnd.randrange(clients)]
            elif kind == 1:
                kw["network"] = nets[rnd.randrange(networks)]
            else:
                kw["sim_slot"] = slot_rows[rnd.randrange(len(slot_rows))]
            target_rows.append(
                RoutingTarget(
                    rule=rule,
                    priority=k,
                    weight=1 + (i + k) % 10,
                    is_active=(i + k) % 20 != 7,
                    **kw,
                )
            )
        if len(target_rows) >= batch:
            RoutingTarget.objects.bulk_create(target_rows)
            n_targets += len(target_rows)
            target_rows = []
    RoutingTarget.objects.bulk_create(target_rows)
    n_targets += len(target_rows)
    return {
        "networks": len(nets),
        "clients": len(client_rows),
        "sim_slots": len(slot_rows),
        "trunks": len(trunks),
        "rules": len(rule_rows),
        "targets": n_targets,
    }
