"""Search-as-you-type option endpoints (``<option>``s over the wire, vmgate/widgets.py).

Tenant-scoped through :func:`vmgate.tenancy.scoped`: another tenant's id, a missing id or
garbage reads like nothing was chosen, never a 500. At most ``MAX_OPTIONS`` rows.
"""

from django.db.models import Q
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from customers.models import Trunk
from routing.models import Network, SimSlot, VMGateClient
from vmgate.tenancy import parse_pk, scoped
from vmgate.widgets import MAX_OPTIONS, render_options

EMPTY_LABELS = {"any": "Any", "all": "All trunks"}


def _tenant(request):
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        raise Http404("No tenant for this login")
    return tenant


def _q(request):
    return request.GET.get("q", "").replace("\x00", "").strip()[:100]


def _selected(request, name):
    """The pk currently chosen in the select named ``name`` (or ``<prefix>-name``)."""
    for key, value in request.GET.items():
        if (key == name or key.endswith("-" + name)) and (pk := parse_pk(value)) is not None:
            return pk
    return None


def _respond(qs, label, ordering, selected, q, empty_label):
    rows = []
    if selected is not None:
        rows = list(qs.filter(pk=selected))
    rest = qs.order_by(*ordering)
    if rows:
        rest = rest.exclude(pk=selected)
    rows += list(rest[: MAX_OPTIONS - len(rows)])
    if q and rows:
        return HttpResponse(render_options(rows, label, selected=selected, empty=False))
    if q:
        return HttpResponse(render_options([], empty_label="No match"))
    return HttpResponse(render_options(rows, label, selected=selected, empty_label=empty_label))


def trunk_label(trunk):
    return f"{trunk.customer.name} / {trunk.name}"


def client_label(client):
    return f"{client.name} ({client.node_id})"


def slot_label(slot):
    return str(slot)


@require_GET
def trunk_search(request):
    """``?q=``: this tenant's trunks by trunk or customer name, for the rule's SIP trunk
    filter (empty option ``All trunks``; ``empty=any`` for list filters)."""
    qs = scoped(Trunk, _tenant(request)).select_related("customer")
    q = _q(request)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(customer__name__icontains=q))
    empty = "Any trunk" if request.GET.get("empty") == "any" else "All trunks"
    return _respond(
        qs, trunk_label, ["customer__name", "name", "id"], _selected(request, "trunk"), q, empty
    )


@require_GET
def target_options(request):
    """``?kind=network|client|sim_slot&q=``: this tenant's networks, VMGateClients or SIM
    slots (``client · slot 2``); an unknown kind gives the empty option only."""
    tenant = _tenant(request)
    kind = request.GET.get("kind", "")
    q = _q(request)
    empty = "Any network" if request.GET.get("empty") == "any" else "---------"
    if kind == "network":
        qs = scoped(Network, tenant)
        if q:
            qs = qs.filter(name__icontains=q)
        return _respond(qs, str, ["name", "id"], _selected(request, "network"), q, empty)
    if kind == "client":
        qs = scoped(VMGateClient, tenant)
        if q:
            qs = qs.filter(Q(name__icontains=q) | Q(node_id__icontains=q))
        return _respond(qs, client_label, ["name", "id"], _selected(request, "client"), q, empty)
    if kind == "sim_slot":
        qs = scoped(SimSlot, tenant).select_related("client")
        if q:
            name, _, pos = q.rpartition(" ")
            if pos.isascii() and pos.isdigit() and name:
                qs = qs.filter(client__name__icontains=name.strip(" ·"), position=int(pos))
            else:
                qs = qs.filter(Q(client__name__icontains=q) | Q(client__node_id__icontains=q))
        return _respond(
            qs,
            slot_label,
            ["client__name", "client_id", "position"],
            _selected(request, "sim_slot"),
            q,
            empty,
        )
    return HttpResponse(render_options([]))
