"""One tenant with a row of every kind, and every portal URL of the URL configuration
resolved against it: the URL-conf walks of the shell tests use it, so a new page is
covered without editing a test."""

from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import (
    NumberListEntryFactory,
    RateFactory,
    RoutingCheckFactory,
    RoutingTargetFactory,
    ScheduleWindowFactory,
    SimSlotFactory,
    TranslationRuleFactory,
    build_imports,
    build_route_world,
)

#: Namespaces of tenant pages (the admin and the API answer for themselves).
PORTAL_NAMESPACES = {"customers", "routing", "dialpeers", "vmgate"}
#: The last part of a URL name that makes a page a write page.
WRITE_ACTIONS = (
    "add",
    "edit",
    "delete",
    "bulk",
    "block",
    "unblock",
    "run",
    "save",
    "apply",
    "cancel",
)


def build_portal_world(tenant):
    world = build_route_world(tenant)
    world["rate"] = RateFactory(rate_plan=world["plan"], code="3741")
    world["target"] = world["rule"].targets.order_by("pk").first()
    world["check"] = RoutingCheckFactory(trunk=world["trunk"], tenant=tenant)
    world["network"] = world["gw_a"].network
    SimSlotFactory(client=world["gw_a"], position=1)
    RoutingTargetFactory(rule=world["rule"], network=world["network"], client=None)
    world["upload"], world["run"] = build_imports(tenant)
    world["translationrule"] = TranslationRuleFactory(translation_set__tenant=tenant)
    world["translationset"] = world["translationrule"].translation_set
    world["numberlistentry"] = NumberListEntryFactory(number_list__tenant=tenant)
    world["numberlist"] = world["numberlistentry"].number_list
    world["schedulewindow"] = ScheduleWindowFactory(schedule__tenant=tenant)
    world["schedule"] = world["schedulewindow"].schedule
    return world


#: A new row of a parent: its add page takes the parent's pk.
PARENT_OF_ADD = {
    "routing:routingtarget_add": "rule",
    "routing:translationrule_add": "translationset",
    "routing:numberlistentry_add": "numberlist",
    "routing:schedulewindow_add": "schedule",
}


def _pk_for(name, world):
    """The object an URL name with a ``pk`` works on (``<app>:<model>_<action>``)."""
    if name in PARENT_OF_ADD:  # a new target of a rule: the rule's pk
        return world[PARENT_OF_ADD[name]].pk
    model = name.split(":", 1)[1].rsplit("_", 1)[0]
    obj = {
        "customer": world["customer"],
        "balanceentry": world["customer"],  # Record payment: /customers/<customer>/payments/add/
        "trunk": world["trunk"],
        "rateplan": world["plan"],
        "rate": world["rate"],
        "network": world["network"],
        "vmgateclient": world["gw_a"],
        "routingrule": world["rule"],
        "routingtarget": world["target"],
        "routingcheck": world["check"],
        "dialpeer": world["dialpeer"],
        "apitoken": None,
        "importupload": world["upload"],
        "importrun": world["run"],
        "translationset": world["translationset"],
        "translationrule": world["translationrule"],
        "numberlist": world["numberlist"],
        "numberlistentry": world["numberlistentry"],
        "schedule": world["schedule"],
        "schedulewindow": world["schedulewindow"],
    }[model]
    return obj.pk if obj is not None else 1


def _walk(patterns, prefix="", namespace=None):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace or namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern) and p.name and namespace in PORTAL_NAMESPACES:
            yield f"{namespace}:{p.name}", prefix + str(p.pattern), p.pattern.converters


def portal_urls(world):
    """(url name, path) of every tenant page, its ``<int:…>`` parts filled from ``world``."""
    urls = []
    for name, route, converters in _walk(get_resolver().url_patterns):
        path = "/" + route
        for key in converters:
            if key == "kind":  # an import's kind of data (vmgate.import_kinds)
                path = path.replace("<slug:kind>", "networks")
                continue
            value = world["plan"].pk if key == "plan_pk" else _pk_for(name, world)
            path = path.replace(f"<int:{key}>", str(value))
        urls.append((name, path))
    return urls


def is_write(name):
    return name.rsplit("_", 1)[-1] in WRITE_ACTIONS
