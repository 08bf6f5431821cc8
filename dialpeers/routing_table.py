"""The trunk detail's Routing table: the codes a trunk can reach, through which dialpeer.

One query whatever the number of rows: the rule comes through ``select_related`` and its
targets summary and "carries no traffic" state are correlated subqueries (the same SQL
test the routing-rules pages use, ``routing.queries.usable_target_q``).
"""

from django.db.models import Exists, OuterRef

from dialpeers.models import Dialpeer
from routing.models import RoutingTarget
from routing.queries import subquery_count, targets_summary, usable_target_q

MAX_ROWS = 500


def routing_table(trunk, limit=MAX_ROWS):
    """The trunk's dialpeers sorted by code (active first within a code), annotated."""
    targets = RoutingTarget.objects.filter(rule_id=OuterRef("rule_id"))
    rows = list(
        Dialpeer.objects.filter(trunk_id=trunk.pk)
        .select_related("rule__trunk__customer")
        .annotate(
            n_networks=subquery_count(targets.filter(network__isnull=False)),
            n_clients=subquery_count(targets.filter(client__isnull=False)),
            n_slots=subquery_count(targets.filter(sim_slot__isnull=False)),
            n_inactive_targets=subquery_count(targets.filter(is_active=False)),
            usable=Exists(targets.filter(usable_target_q())),
        )
        .order_by("rule__code", "-is_active", "name", "id")[: limit + 1]
    )
    for row in rows:
        row.targets_summary = targets_summary(row.n_networks, row.n_clients, row.n_slots)
        row.no_traffic_reason = _no_traffic_reason(row)
    return {"rows": rows[:limit], "truncated": len(rows) > limit, "limit": limit}


def _no_traffic_reason(row):
    """Why calls on this trunk to this code reach no target, or "" when they can."""
    if not row.is_active:
        return "dialpeer inactive"
    if not row.rule.is_active:
        return "rule inactive"
    if not row.usable:
        return "no active target reaches a ready VMGateClient"
    return ""
