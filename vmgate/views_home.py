"""The home page: what this tenant has, and whether its routing is healthy.

Each count links to its list; each "needs attention" item is the list's own FilterSet
applied to the tenant's rows with the very parameters of the link, so the home page and
the list it links to can never disagree. Every figure is one COUNT/EXISTS/aggregate query
and each sample is LIMITed: the page costs the same fixed number of queries at 10 rows
or at 100k (tests/vmgate/test_home.py pins it).
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_not_required
from django.db.models import Count, Sum
from django.http import HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse

from customers.filtersets import CustomerFilterSet, TrunkFilterSet
from customers.models import Customer, RatePlan, Trunk, money
from dialpeers.models import Dialpeer
from routing.checks.filtersets import RoutingCheckListFilterSet
from routing.filtersets import RoutingRuleFilterSet, VMGateClientFilterSet
from routing.models import Network, RoutingCheck, RoutingRule, VMGateClient
from routing.testcall import prefill_url
from vmgate.tenancy import scoped

#: How many rows of each attention item the home page names (the link shows them all).
SAMPLE = 5


@login_not_required
def favicon(request):
    """Browsers ask for /favicon.ico on their own; answer with the static icon."""
    return HttpResponsePermanentRedirect(static("favicon.ico"))


@dataclass
class Attention:
    """One "needs attention" item: how many rows, a few of them, and the filtered list."""

    key: str
    title: str
    why: str
    ok: str  # what holds when the count is 0
    url: str
    count: int
    samples: list = field(default_factory=list)  # (label, url, note, test-call url)

    @property
    def more(self):
        return self.count - len(self.samples)


def _list_url(url_name, params):
    return f"{reverse(url_name)}?{urlencode(params)}"


def _filtered(filterset_class, model, params, tenant):
    """The tenant's rows of ``model`` that the list's FilterSet keeps for ``params``."""
    filterset = filterset_class(params, queryset=scoped(model, tenant), tenant=tenant)
    return filterset.qs


def _item(key, title, why, ok, url_name, params, qs, describe):
    """Count ``qs`` and describe its first rows (``describe(row)`` → sample tuple)."""
    count = qs.count()
    samples = [describe(row) for row in qs[:SAMPLE]] if count else []
    return Attention(key, title, why, ok, _list_url(url_name, params), count, samples)


def call_refusal_text(customer, currency):
    """Why ``customer`` takes no new calls, in the model's own words."""
    return " ".join(reason for _what, reason in customer.call_refusals(currency))


def attention_items(tenant):
    items = []

    params = {"status": "no_traffic", "linked": "active"}
    rules = _filtered(RoutingRuleFilterSet, RoutingRule, params, tenant).select_related("trunk")
    items.append(
        _item(
            "rules",
            "Rules with active dialpeers that carry no traffic",
            "Calls reach these rules but no target can take them: they are refused.",
            "Every active rule that dialpeers link has a usable target.",
            "routing:routingrule_list",
            params,
            rules,
            lambda r: (str(r), r.get_absolute_url(), "no usable target", None),
        )
    )

    params = {"status": Trunk.ACTIVE, "linked": "none_active"}
    trunks = _filtered(TrunkFilterSet, Trunk, params, tenant).select_related("customer")
    items.append(
        _item(
            "trunks",
            "Active trunks with no active dialpeer",
            "Every call arriving on these trunks is refused: no dialpeer routes it.",
            "Every active trunk has an active dialpeer.",
            "customers:trunk_list",
            params,
            trunks,
            lambda t: (str(t), t.get_absolute_url(), f"tech prefix {t.tech_prefix}", None),
        )
    )

    params = {"attention": "down_sole_target"}
    clients = _filtered(VMGateClientFilterSet, VMGateClient, params, tenant)
    items.append(
        _item(
            "clients",
            "VMGateClients off or without dongle that are a rule's only target",
            "The rules that send calls only to these devices carry no traffic until they are back.",
            "No rule depends on a single VMGateClient that is off or without dongle.",
            "routing:vmgateclient_list",
            params,
            clients,
            lambda c: (str(c), c.get_absolute_url(), c.get_status_display(), None),
        )
    )

    params = {"last_passed": "false"}
    checks = _filtered(RoutingCheckListFilterSet, RoutingCheck, params, tenant).select_related(
        "trunk"
    )
    items.append(
        _item(
            "checks",
            "Routing checks failing at their last run",
            "Routing no longer decides what these saved test calls expect.",
            "No routing check failed at its last run.",
            "routing:routingcheck_list",
            params,
            checks,
            lambda c: (
                c.name,
                _list_url("routing:routingcheck_list", {"q": c.name}),
                c.called_number,
                prefill_url(
                    trunk=c.trunk,
                    source_ip=c.source_ip or "",
                    called_number=c.called_number,
                    at=c.at,
                ),
            ),
        )
    )

    params = {"takes_calls": "no"}
    customers = _filtered(CustomerFilterSet, Customer, params, tenant)
    items.append(
        _item(
            "customers",
            "Customers that cannot take new calls",
            "New calls from their trunks are refused.",
            "Every customer can take new calls.",
            "customers:customer_list",
            params,
            customers,
            lambda c: (
                c.name,
                c.get_absolute_url(),
                call_refusal_text(c, tenant.currency),
                None,
            ),
        )
    )
    return items


def counts(tenant):
    """(label, count, list url) of each kind; the customers' count comes with their total."""
    customers = scoped(Customer, tenant).aggregate(n=Count("pk"), total=Sum("balance"))
    rows = [("Customers", customers["n"], reverse("customers:customer_list"))]
    for label, model, url_name in [
        ("Trunks", Trunk, "customers:trunk_list"),
        ("Rate plans", RatePlan, "customers:rateplan_list"),
        ("Networks", Network, "routing:network_list"),
        ("VMGateClients", VMGateClient, "routing:vmgateclient_list"),
        ("Routing rules", RoutingRule, "routing:routingrule_list"),
        ("Dialpeers", Dialpeer, "dialpeers:dialpeer_list"),
    ]:
        rows.append((label, scoped(model, tenant).count(), reverse(url_name)))
    return rows, customers


def home(request):
    tenant = request.tenant
    if tenant is None:
        if request.user.is_staff:
            return redirect("admin:index")
        return render(request, "vmgate/home.html", {})
    rows, customers = counts(tenant)
    items = attention_items(tenant)
    context = {
        "counts": rows,
        "customer_total": money(customers["total"] or 0, tenant.currency),
        "attention": [i for i in items if i.count],
        "healthy": [i for i in items if not i.count],
    }
    return render(request, "vmgate/home.html", context)
