"""Option endpoints: HTML ``<option>``s over the wire for dependent and searchable selects.

Every endpoint is tenant-scoped through :func:`vmgate.tenancy.scoped`; an id of another
tenant, a missing id or garbage (``abc``, a NUL byte) reads like nothing was chosen, and the
response is the empty option only — never another tenant's row, never a 500. At most
:data:`vmgate.widgets.MAX_OPTIONS` rows are returned.
"""

from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from customers.models import Customer, Trunk
from routing.models import RoutingRule
from vmgate.tenancy import scoped
from vmgate.widgets import MAX_OPTIONS, int_param, render_options

MAX_QUERY = 100


def _tenant(request):
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        raise Http404("No tenant for this login")
    return tenant


def _q(request):
    """The search text: stripped, bounded, without NUL (PostgreSQL refuses NUL in text)."""
    return request.GET.get("q", "").replace("\x00", "").strip()[:MAX_QUERY]


def _with_selected(qs, selected_pk, ordering):
    """The first rows of ``qs`` by ``ordering``, with the selected row (if in ``qs``) first."""
    rows = []
    if selected_pk is not None:
        rows = list(qs.filter(pk=selected_pk))
    rest = qs.order_by(*ordering)
    if rows:
        rest = rest.exclude(pk=selected_pk)
    rows += list(rest[: MAX_OPTIONS - len(rows)])
    return rows


def _options(rows, label, selected_pk, q):
    """Empty option first unless a search found matches (then the best match is chosen)."""
    if q and rows:
        return HttpResponse(render_options(rows, label, selected=selected_pk, empty=False))
    if q:
        return HttpResponse(render_options([], empty_label="No match"))
    return HttpResponse(render_options(rows, label, selected=selected_pk))


def trunk_label(trunk):
    text = trunk.name
    if trunk.status != Trunk.ACTIVE:
        text += f" ({trunk.get_status_display().lower()})"
    return text


def customer_trunk_label(trunk):
    return f"{trunk.customer.name} / {trunk_label(trunk)}"


def rule_label(rule):
    text = str(rule)
    if rule.trunk_id:
        text += " · this trunk only"
    if not rule.is_active:
        text += " (inactive)"
    return text


@require_GET
def trunk_options(request):
    """``?customer=<id>``: the empty option plus that customer's trunks (the dependent
    dropdown of the dialpeer form and the test-call page)."""
    tenant = _tenant(request)
    customer_pk = int_param(request, "customer")
    if customer_pk is None:
        return HttpResponse(render_options([]))
    qs = scoped(Trunk, tenant).filter(customer_id=customer_pk)
    rows = _with_selected(qs, int_param(request, "trunk"), ["name", "id"])
    return HttpResponse(render_options(rows, trunk_label, selected=int_param(request, "trunk")))


@require_GET
def trunk_search(request):
    """``?q=``: the tenant's trunks by trunk or customer name (list filters); narrowed to
    ``customer=<id>`` when given."""
    tenant = _tenant(request)
    q = _q(request)
    qs = scoped(Trunk, tenant).select_related("customer")
    if "customer" in request.GET and request.GET["customer"]:
        qs = qs.filter(customer_id=int_param(request, "customer"))
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(customer__name__icontains=q))
    selected = int_param(request, "trunk")
    rows = _with_selected(qs, selected, ["customer__name", "name", "id"])
    return _options(rows, customer_trunk_label, selected, q)


@require_GET
def customer_options(request):
    """``?q=``: the tenant's customers by name; ``with_trunks=1`` keeps only customers that
    have a trunk (the only ones a dialpeer can use)."""
    tenant = _tenant(request)
    q = _q(request)
    qs = scoped(Customer, tenant)
    if request.GET.get("with_trunks") == "1":
        qs = qs.filter(Exists(Trunk.objects.filter(customer_id=OuterRef("pk"))))
    if q:
        qs = qs.filter(name__icontains=q)
    selected = int_param(request, "customer")
    rows = _with_selected(qs, selected, ["name", "id"])
    return _options(rows, str, selected, q)


def usable_rules(tenant, trunk_pk):
    """Rules a dialpeer on trunk ``trunk_pk`` may link: all-trunks rules plus rules scoped
    to that trunk (only all-trunks rules while no trunk is chosen)."""
    qs = scoped(RoutingRule, tenant)
    if trunk_pk is None:
        return qs.filter(trunk__isnull=True)
    return qs.filter(Q(trunk__isnull=True) | Q(trunk_id=trunk_pk))


def search_rules(qs, q):
    """Digits search codes by prefix; any other text searches the label."""
    if not q:
        return qs
    if q.isascii() and q.isdigit():
        return qs.filter(code__startswith=q)
    if q in ("*", "* (any)", "any"):
        return qs.filter(code="")
    return qs.filter(label__icontains=q)


@require_GET
def rule_options(request):
    """``?q=&trunk=<id>``: rules usable on the trunk, as ``374 — Armenia``; ``all=1`` offers
    every rule of the tenant (list filters)."""
    tenant = _tenant(request)
    q = _q(request)
    if request.GET.get("all") == "1":
        qs = scoped(RoutingRule, tenant)
    else:
        # Another tenant's trunk id matches no scoped rule of this tenant: only the
        # all-trunks rules remain, exactly as for a missing trunk.
        qs = usable_rules(tenant, int_param(request, "trunk"))
    qs = search_rules(qs, q)
    selected = int_param(request, "rule")
    rows = _with_selected(qs, selected, ["code", "id"])
    return _options(rows, rule_label, selected, q)
