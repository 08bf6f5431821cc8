"""Options endpoints for customers and trunks (``<option>``s for SearchSelect,
vmgate/widgets.py).

Tenant-scoped through :func:`vmgate.tenancy.scoped`: another tenant's id, a missing id or
garbage (``abc``, a NUL byte) reads like nothing was chosen, never another tenant's row,
never a 500. At most :data:`vmgate.widgets.MAX_OPTIONS` rows.
"""

from django.db.models import Exists, OuterRef, Q
from django.views.decorators.http import require_GET

from customers.models import Customer, Trunk
from vmgate.tenancy import parse_pk, scoped, tenant_or_404
from vmgate.widgets import options_response, search_text, selected_pk

EMPTY_LABELS = {"any": "Any trunk", "all": "All trunks"}


def _status_suffix(trunk):
    return "" if trunk.status == Trunk.ACTIVE else f" ({trunk.get_status_display().lower()})"


def trunk_label(trunk):
    """A trunk among its customer's trunks: ``name (prefix 77)``, plus its status when not
    active (the tech prefix is what a test call's number starts with)."""
    prefix = f" (prefix {trunk.tech_prefix})" if trunk.tech_prefix else ""
    return f"{trunk.name}{prefix}{_status_suffix(trunk)}"


def customer_trunk_label(trunk):
    """A trunk among all the tenant's trunks: ``Customer / name``."""
    return f"{trunk.customer.name} / {trunk.name}{_status_suffix(trunk)}"


@require_GET
def customer_options(request):
    """``?q=``: the tenant's customers by name; ``with_trunks=1`` keeps only customers that
    have a trunk (the only ones a dialpeer or a test call can use)."""
    qs = scoped(Customer, tenant_or_404(request))
    if request.GET.get("with_trunks") == "1":
        qs = qs.filter(Exists(Trunk.objects.filter(customer_id=OuterRef("pk"))))
    q = search_text(request)
    if q:
        qs = qs.filter(name__icontains=q)
    return options_response(qs, str, ["name", "id"], selected_pk(request, "customer"), q)


@require_GET
def trunk_options(request):
    """``?q=``: the tenant's trunks by trunk or customer name, as ``Customer / trunk``.

    A ``customer`` narrows to that customer's trunks (a garbage or foreign id to none).
    ``by_customer=1`` (the dependent trunk select of the dialpeer form and the test call)
    lists only the chosen customer's trunks, by name: none while no customer is chosen. ``empty=any|all`` names the empty choice of list filters and rule scopes.
    """
    qs = scoped(Trunk, tenant_or_404(request)).select_related("customer")
    label = customer_trunk_label
    ordering = ["customer__name", "name", "id"]
    raw_customer = request.GET.get("customer", "")
    by_customer = request.GET.get("by_customer") == "1"
    if raw_customer or by_customer:
        customer_pk = parse_pk(raw_customer)
        qs = qs.filter(customer_id=customer_pk) if customer_pk else qs.none()
    if by_customer:
        label, ordering = trunk_label, ["name", "id"]
    q = search_text(request)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(customer__name__icontains=q))
    empty = EMPTY_LABELS.get(request.GET.get("empty"), "---------")
    return options_response(qs, label, ordering, selected_pk(request, "trunk"), q, empty)
