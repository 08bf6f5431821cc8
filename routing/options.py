"""Options endpoints for rules and targets (``<option>``s for SearchSelect,
vmgate/widgets.py).

Tenant-scoped through :func:`vmgate.tenancy.scoped`: another tenant's id, a missing id or
garbage reads like nothing was chosen, never a 500. At most ``MAX_OPTIONS`` rows.
"""

from django.db.models import Q
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from routing.filtersets import search_rules
from routing.models import (
    Network,
    NumberList,
    RoutingRule,
    Schedule,
    SimSlot,
    TranslationSet,
    VMGateClient,
)
from vmgate.tenancy import scoped, tenant_or_404
from vmgate.widgets import (
    options_response,
    render_options,
    search_text,
    selected_pk,
)


def client_label(client):
    return f"{client.name} ({client.node_id})"


def rule_label(rule):
    """``374 — Armenia`` (a scoped rule names its trunk, see RoutingRule.__str__), plus
    "(inactive)"."""
    text = str(rule)
    if not rule.is_active:
        text += " (inactive)"
    return text


def usable_rules(tenant, trunk_pk):
    """Rules a dialpeer on trunk ``trunk_pk`` may link: all-trunks rules plus rules scoped
    to that trunk (only all-trunks rules while no trunk is chosen)."""
    qs = scoped(RoutingRule, tenant)
    if trunk_pk is None:
        return qs.filter(trunk__isnull=True)
    return qs.filter(Q(trunk__isnull=True) | Q(trunk_id=trunk_pk))


@require_GET
def rule_options(request):
    """``?q=&trunk=<id>``: rules usable on the trunk, as ``374 — Armenia``; ``all=1`` offers
    every rule of the tenant (list filters, routing checks). Digits search codes by prefix,
    other text the label."""
    tenant = tenant_or_404(request)
    q = search_text(request)
    if request.GET.get("all") == "1":
        qs = scoped(RoutingRule, tenant)
    else:
        # Another tenant's trunk id matches no scoped rule of this tenant: only the
        # all-trunks rules remain, exactly as for a missing trunk.
        qs = usable_rules(tenant, selected_pk(request, "trunk"))
    qs = search_rules(qs, q).select_related("trunk__customer")
    empty = "Any rule" if request.GET.get("empty") == "any" else "---------"
    return options_response(qs, rule_label, ["code", "id"], selected_pk(request, "rule"), q, empty)


@require_GET
def target_options(request):
    """``?kind=network|client|sim_slot&q=``: this tenant's networks, VMGateClients or SIM
    slots (``client · slot 2``); an unknown kind gives the empty option only."""
    tenant = tenant_or_404(request)
    kind = request.GET.get("kind", "")
    q = search_text(request)
    empty = "Any network" if request.GET.get("empty") == "any" else "---------"
    if kind == "network":
        qs = scoped(Network, tenant)
        if q:
            qs = qs.filter(name__icontains=q)
        return options_response(qs, str, ["name", "id"], selected_pk(request, "network"), q, empty)
    if kind == "client":
        qs = scoped(VMGateClient, tenant)
        if q:
            qs = qs.filter(Q(name__icontains=q) | Q(node_id__icontains=q))
        return options_response(
            qs, client_label, ["name", "id"], selected_pk(request, "client"), q, empty
        )
    if kind == "sim_slot":
        qs = scoped(SimSlot, tenant).select_related("client")
        if q:
            name, _, pos = q.rpartition(" ")
            if pos.isascii() and pos.isdigit() and name:
                qs = qs.filter(client__name__icontains=name.strip(" ·"), position=int(pos))
            else:
                qs = qs.filter(Q(client__name__icontains=q) | Q(client__node_id__icontains=q))
        return options_response(
            qs,
            str,
            ["client__name", "client_id", "position"],
            selected_pk(request, "sim_slot"),
            q,
            empty,
        )
    return HttpResponse(render_options([]))


#: ``?kind=`` of :func:`policy_options`: the model, the empty choice's label and the names
#: of the selects that use it (their current value is offered first).
POLICY_KINDS = {
    "translation_set": (TranslationSet, "None", ("ingress_translation", "egress_translation")),
    "number_list": (NumberList, "---------", ("number_lists",)),
    "schedule": (Schedule, "Always", ("schedule",)),
}


@require_GET
def policy_options(request):
    """``?kind=translation_set|number_list|schedule&q=``: this tenant's translation sets,
    number lists or schedules, by name; an unknown kind gives the empty option only."""
    tenant = tenant_or_404(request)
    kind = request.GET.get("kind", "")
    if kind not in POLICY_KINDS:
        return HttpResponse(render_options([]))
    model, empty, names = POLICY_KINDS[kind]
    q = search_text(request)
    qs = scoped(model, tenant)
    if q:
        qs = qs.filter(name__icontains=q)
    selected = next((pk for n in names if (pk := selected_pk(request, n)) is not None), None)
    return options_response(qs, str, ["name", "id"], selected, q, empty)
