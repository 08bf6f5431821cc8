"""Every list page of the portal, found by walking the URL configuration, and rows to fill
them. Shared by the list fuzz test and the browser walk, so a new list is covered by both
without editing either.

A list page is a URL whose view is a :class:`vmgate.views.TenantListView`, or whose name
ends in ``_list``. A ``_list`` page that is not a TenantListView must be named in
:data:`PLAIN_LISTS` (with why it has no table paging); a list whose model has no row
maker, or whose URL takes an argument this module cannot fill, fails the tests that use it
until it is taught here.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests import factories as f
from vmgate.views import TenantListView

# Pages named like lists that are not table lists (no sort, no paging), with the reason.
PLAIN_LISTS = {
    "vmgate:apitoken_list": "one user's own API tokens, all on one page, with the add form",
}


@dataclass(frozen=True)
class ListRoute:
    name: str  # namespaced URL name
    view_class: type | None
    arguments: tuple  # names of the URL's arguments

    @property
    def is_table(self):
        return self.view_class is not None and issubclass(self.view_class, TenantListView)

    @property
    def model(self):
        return self.view_class.model if self.is_table else None


def _walk(patterns, namespace):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = namespace
            if p.namespace:
                ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
            yield from _walk(p.url_patterns, ns)
        elif isinstance(p, URLPattern):
            yield namespace, p


def list_routes():
    routes = []
    for namespace, p in _walk(get_resolver().url_patterns, ""):
        if namespace.split(":")[0] in ("admin", "api"):
            continue
        view_class = getattr(p.callback, "view_class", None)
        is_list_view = isinstance(view_class, type) and issubclass(view_class, TenantListView)
        if not (is_list_view or (p.name or "").endswith("_list")):
            continue
        assert p.name, f"list view {view_class} has no URL name"
        name = f"{namespace}:{p.name}" if namespace else p.name
        routes.append(ListRoute(name, view_class, tuple(p.pattern.converters)))
    return sorted(routes, key=lambda r: r.name)


def table_routes():
    return [r for r in list_routes() if r.is_table]


# Rows ------------------------------------------------------------------------------------


def _rates(tenant, n):
    plan = f.RatePlanFactory(tenant=tenant)
    since = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        f.RateFactory(rate_plan=plan, code=f"{370 + i}", valid_since=since + timedelta(days=i))
        for i in range(n)
    ]


# model label → make(tenant, n) returning n rows of that model, in one tenant.
ROW_MAKERS = {
    "customers.customer": lambda t, n: [f.CustomerFactory(tenant=t) for _ in range(n)],
    "customers.trunk": lambda t, n: f.TrunkFactory.create_batch(n, customer__tenant=t),
    "customers.rateplan": lambda t, n: [f.RatePlanFactory(tenant=t) for _ in range(n)],
    "customers.rate": _rates,
    "routing.network": lambda t, n: [f.NetworkFactory(tenant=t) for _ in range(n)],
    "routing.vmgateclient": lambda t, n: f.VMGateClientFactory.create_batch(
        n, network=f.NetworkFactory(tenant=t)
    ),
    "routing.routingrule": lambda t, n: [
        f.RoutingRuleFactory(tenant=t, code=f"{500 + i}") for i in range(n)
    ],
    "dialpeers.dialpeer": lambda t, n: [
        f.DialpeerFactory(trunk__customer__tenant=t, rule__code=f"{600 + i}") for i in range(n)
    ],
    "routing.routingcheck": lambda t, n: f.RoutingCheckFactory.create_batch(
        n, trunk=f.TrunkFactory(customer__tenant=t)
    ),
    "routing.translationset": lambda t, n: f.TranslationSetFactory.create_batch(n, tenant=t),
    "routing.numberlist": lambda t, n: f.NumberListFactory.create_batch(n, tenant=t),
    # A number list's page lists its entries: n entries of one list.
    "routing.numberlistentry": lambda t, n: f.NumberListEntryFactory.create_batch(
        n, number_list=f.NumberListFactory(tenant=t)
    ),
    "routing.schedule": lambda t, n: f.ScheduleFactory.create_batch(n, tenant=t),
}

# URL argument → its value from the list's rows (a nested list: a plan's destinations);
# ``(list name, argument)`` for an argument whose meaning depends on the list.
URL_ARGUMENTS = {
    "plan_pk": lambda rows: rows[0].rate_plan_id,
    ("routing:numberlist_detail", "pk"): lambda rows: rows[0].number_list_id,
}


def make_rows(route, tenant, n):
    label = route.model._meta.label_lower
    assert label in ROW_MAKERS, f"{route.name}: teach tests/lists.py ROW_MAKERS to make {label}"
    return ROW_MAKERS[label](tenant, n)


def url_of(route, rows=()):
    """The list's address; a nested list needs its rows (``make_rows``) for its parent."""
    kwargs = {}
    for arg in route.arguments:
        fill = URL_ARGUMENTS.get((route.name, arg)) or URL_ARGUMENTS.get(arg)
        assert fill, f"{route.name}: teach tests/lists.py URL_ARGUMENTS {arg}"
        assert rows, f"{route.name}: needs rows to fill {arg}"
        kwargs[arg] = fill(rows)
    return reverse(route.name, kwargs=kwargs)
