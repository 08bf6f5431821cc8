"""Sidebar and tenant for every page. The sidebar lists only pages that exist."""

from django.urls import NoReverseMatch, reverse

SIDEBAR = [
    ("Customers", "customers:customer_list"),
    ("Trunks", "customers:trunk_list"),
    ("Rate plans", "customers:rateplan_list"),
    ("Networks", "routing:network_list"),
    ("VMGateClients", "routing:vmgateclient_list"),
    ("Routing rules", "routing:routingrule_list"),
    ("Dialpeers", "dialpeers:dialpeer_list"),
    ("Test call", "routing:test_call"),
    ("Routing checks", "routing:routingcheck_list"),
    ("Change log", "vmgate:changelog"),
    ("API tokens", "vmgate:apitoken_list"),
]


def _sidebar():
    items = []
    for label, name in SIDEBAR:
        try:
            items.append((label, reverse(name)))
        except NoReverseMatch:
            continue
    return items


def portal(request):
    membership = getattr(request, "membership", None)
    return {
        "tenant": getattr(request, "tenant", None),
        "membership": membership,
        "can_write": bool(membership and membership.can_write),
        "sidebar": _sidebar()
        if getattr(request, "user", None) and request.user.is_authenticated
        else [],
    }
