"""Annotated querysets for the routing pages: counts and the "usable target" test in SQL.

Every figure a list shows per row (client counts, slot counts, a rule's targets summary,
whether it carries traffic) is a correlated subquery, so a page costs the same small number
of queries whatever the size of the data, and PostgreSQL evaluates the subqueries only for
the rows of the page.
"""

from django.db.models import (
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Concat

from dialpeers.models import Dialpeer
from routing.models import RoutingTarget, SimSlot, VMGateClient

READY = VMGateClient.READY


def subquery_count(qs):
    """``COUNT(*)`` of ``qs`` (correlated through OuterRef) as an integer expression."""
    counted = qs.order_by().annotate(_n=Func(F("pk"), function="COUNT")).values("_n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def usable_target_q():
    """Q over RoutingTarget: active, and it can reach a ``ready`` client right now.

    Network → has a ready client; client → is ready; SIM slot → enabled and its client ready
    (SPEC §5, the same test the engine applies).
    """
    network_has_ready = Exists(
        VMGateClient.objects.filter(network_id=OuterRef("network_id"), status=READY)
    )
    return Q(is_active=True) & (
        Q(client__status=READY)
        | Q(sim_slot__enabled=True, sim_slot__client__status=READY)
        | (Q(network__isnull=False) & Q(network_has_ready))
    )


def rule_targets(kind_filter=None):
    qs = RoutingTarget.objects.filter(rule_id=OuterRef("pk"))
    return qs.filter(kind_filter) if kind_filter is not None else qs


def has_usable_target():
    return Exists(rule_targets(usable_target_q()))


def code_prefix_q(prefix):
    """Codes starting with the digits ``prefix``. The range lets the (tenant, code) index
    narrow it under any collation (codes are ASCII digits only, at most 15)."""
    return Q(code__startswith=prefix, code__gte=prefix, code__lte=prefix + "9" * (15 - len(prefix)))


def has_targets():
    return Exists(rule_targets())


def annotate_rules(qs):
    """Rules with their targets summary, traffic state and dialpeer count."""
    return qs.select_related("trunk__customer").annotate(
        trunk_label=Concat(F("trunk__customer__name"), Value(" / "), F("trunk__name")),
        n_networks=subquery_count(rule_targets(Q(network__isnull=False))),
        n_clients=subquery_count(rule_targets(Q(client__isnull=False))),
        n_slots=subquery_count(rule_targets(Q(sim_slot__isnull=False))),
        n_inactive=subquery_count(rule_targets(Q(is_active=False))),
        usable=has_usable_target(),
        n_dialpeers=subquery_count(Dialpeer.objects.filter(rule_id=OuterRef("pk"))),
    )


def annotate_networks(qs):
    clients = VMGateClient.objects.filter(network_id=OuterRef("pk"))
    return qs.annotate(
        n_clients=subquery_count(clients),
        n_ready=subquery_count(clients.filter(status=READY)),
        n_targets=subquery_count(RoutingTarget.objects.filter(network_id=OuterRef("pk"))),
    )


def annotate_clients(qs):
    slots = SimSlot.objects.filter(client_id=OuterRef("pk"))
    # Two index-driven counts: an OR across the slot join would scan every target.
    direct = RoutingTarget.objects.filter(client_id=OuterRef("pk"))
    via_slot = RoutingTarget.objects.filter(sim_slot__client_id=OuterRef("pk"))
    return qs.annotate(
        network_name=F("network__name"),
        n_slots=subquery_count(slots),
        n_slots_enabled=subquery_count(slots.filter(enabled=True)),
        n_targets=subquery_count(direct) + subquery_count(via_slot),
    )


def targets_summary(n_networks, n_clients, n_slots):
    """``2 clients, 1 network`` (clients first: they are what most rules target)."""
    parts = []
    for n, one, many in (
        (n_clients, "client", "clients"),
        (n_networks, "network", "networks"),
        (n_slots, "SIM slot", "SIM slots"),
    ):
        if n:
            parts.append(f"{n} {one if n == 1 else many}")
    return ", ".join(parts) or "no targets"
