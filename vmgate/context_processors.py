"""Sidebar and tenant for every page. The sidebar lists only pages that exist, and only for
a login with a tenant (support staff without one work in the admin)."""

from django.urls import NoReverseMatch, resolve, reverse

SIDEBAR = [
    ("Customers", "customers:customer_list"),
    ("Trunks", "customers:trunk_list"),
    ("Rate plans", "customers:rateplan_list"),
    ("Networks", "routing:network_list"),
    ("VMGateClients", "routing:vmgateclient_list"),
    ("Routing rules", "routing:routingrule_list"),
    ("Translations", "routing:translationset_list"),
    ("Number lists", "routing:numberlist_list"),
    ("Schedules", "routing:schedule_list"),
    ("Dialpeers", "dialpeers:dialpeer_list"),
    ("Test call", "routing:test_call"),
    ("Routing checks", "routing:routingcheck_list"),
    ("Change log", "vmgate:changelog"),
    ("API tokens", "vmgate:apitoken_list"),
]

#: The sidebar section of a page whose URL name does not start with the section's model
#: (``<app>:<model>_<action>``): the parts of a section that live under another name.
SECTION_OF = {
    "customers:rate": "customers:rateplan_list",
    "customers:balanceentry": "customers:customer_list",
    "routing:routingtarget": "routing:routingrule_list",
    "routing:translationrule": "routing:translationset_list",
    "routing:numberlistentry": "routing:numberlist_list",
    "routing:schedulewindow": "routing:schedule_list",
    "routing:routingcheck_save": "routing:routingcheck_list",
    "dialpeers:dialpeer_bulk": "dialpeers:dialpeer_list",
    "vmgate:apitoken": "vmgate:apitoken_list",
    "vmgate:importrun": "vmgate:changelog",
}


def section_label(section):
    """The sidebar label of ``section`` (a list's URL name)."""
    return dict((name, label) for label, name in SIDEBAR).get(section, "")


def current_section(request):
    """The URL name of the sidebar item the current page belongs to (its list), or None.

    A list, its detail, add, edit and delete pages share ``<app>:<model>_``; a few pages
    belong to another model's section (a plan's rates, a rule's targets); a view may name
    its section itself (``request.sidebar_section``: an import's is its kind's list)."""
    chosen = getattr(request, "sidebar_section", None)  # a page whose section varies
    if chosen:
        return chosen
    match = getattr(request, "resolver_match", None)
    if match is None:
        try:
            match = resolve(request.path_info)
        except Exception:  # noqa: BLE001 - an unknown path (a 404 page) has no section
            return None
    name = match.view_name or ""
    for prefix, section in SECTION_OF.items():
        if name == prefix or name.startswith(prefix + "_"):
            return section
    model = name.rsplit("_", 1)[0]
    for _label, section in SIDEBAR:
        if section.rsplit("_", 1)[0] == model:
            return section
    return None


def _sidebar(section):
    items = []
    for label, name in SIDEBAR:
        try:
            items.append((label, reverse(name), name == section))
        except NoReverseMatch:
            continue
    return items


def portal(request):
    membership = getattr(request, "membership", None)
    tenant = getattr(request, "tenant", None)
    user = getattr(request, "user", None)
    show_sidebar = tenant is not None and user is not None and user.is_authenticated
    return {
        "tenant": tenant,
        "membership": membership,
        "can_write": bool(membership and membership.can_write),
        "sidebar": _sidebar(current_section(request)) if show_sidebar else [],
    }
