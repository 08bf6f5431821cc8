"""Route-coverage isolation: every route that takes an object id, asked by tenant A for
tenant B's object, answers exactly as for an id that does not exist — GET and POST on pages,
and every method on the API — and changes nothing of B's.

The routes come from the URL configuration itself (tests/security/routes.py): a new route
with an id parameter fails ``test_every_route_with_an_id_is_covered`` until ``ID_OF`` says
which kind of object its id names.
"""

import re
from decimal import Decimal

import pytest
from django.test import Client

from customers.models import BalanceEntry
from tests.api.conftest import token_client
from tests.factories import (
    NumberListEntryFactory,
    RateFactory,
    RoutingCheckFactory,
    RoutingTargetFactory,
    ScheduleWindowFactory,
    TranslationRuleFactory,
    build_imports,
    build_route_world,
)
from tests.security.routes import all_routes
from vmgate.models import APIToken

pytestmark = pytest.mark.django_db

# Route name → the kind of object its id parameter names (a key of ``world_b``).
ID_OF = {
    "vmgate:apitoken_delete": "apitoken",
    "customers:customer_detail": "customer",
    "customers:customer_edit": "customer",
    "customers:customer_delete": "customer",
    "customers:customer_block": "customer",
    "customers:customer_unblock": "customer",
    "customers:balanceentry_add": "customer",
    "customers:trunk_detail": "trunk",
    "customers:trunk_edit": "trunk",
    "customers:trunk_delete": "trunk",
    "customers:rateplan_detail": "plan",
    "customers:rateplan_edit": "plan",
    "customers:rateplan_delete": "plan",
    "customers:rate_list": "plan",
    "customers:rate_add": "plan",
    "customers:rate_detail": "rate",
    "customers:rate_edit": "rate",
    "customers:rate_delete": "rate",
    "routing:network_detail": "network",
    "routing:network_edit": "network",
    "routing:network_delete": "network",
    "routing:vmgateclient_detail": "client",
    "routing:vmgateclient_edit": "client",
    "routing:vmgateclient_delete": "client",
    "routing:routingrule_detail": "rule",
    "routing:routingrule_edit": "rule",
    "routing:routingrule_delete": "rule",
    "routing:routingrule_targets": "rule",
    "routing:routingtarget_add": "rule",
    "routing:routingtarget_edit": "target",
    "routing:routingtarget_delete": "target",
    "routing:routingcheck_edit": "check",
    "routing:routingcheck_delete": "check",
    "routing:routingcheck_run": "check",
    "dialpeers:dialpeer_detail": "dialpeer",
    "dialpeers:dialpeer_edit": "dialpeer",
    "dialpeers:dialpeer_delete": "dialpeer",
    "vmgate:importupload_detail": "upload",
    "vmgate:importupload_apply": "upload",
    "vmgate:importupload_cancel": "upload",
    "vmgate:importrun_detail": "run",
    "routing:translationset_detail": "translationset",
    "routing:translationset_edit": "translationset",
    "routing:translationset_delete": "translationset",
    "routing:translationset_test": "translationset",
    "routing:translationrule_add": "translationset",
    "routing:translationrule_edit": "translationrule",
    "routing:translationrule_delete": "translationrule",
    "routing:numberlist_detail": "numberlist",
    "routing:numberlist_edit": "numberlist",
    "routing:numberlist_delete": "numberlist",
    "routing:numberlistentry_add": "numberlist",
    "routing:numberlistentry_edit": "numberlistentry",
    "routing:numberlistentry_delete": "numberlistentry",
    "routing:schedule_detail": "schedule",
    "routing:schedule_edit": "schedule",
    "routing:schedule_delete": "schedule",
    "routing:schedulewindow_add": "schedule",
    "routing:schedulewindow_edit": "schedulewindow",
    "routing:schedulewindow_delete": "schedulewindow",
    "api:customer-detail": "customer",
    "api:balanceentry-detail": "balanceentry",
    "api:trunk-detail": "trunk",
    "api:rateplan-detail": "plan",
    "api:rate-detail": "rate",
    "api:network-detail": "network",
    "api:vmgateclient-detail": "client",
    "api:routingrule-detail": "rule",
    "api:routingtarget-detail": "target",
    "api:dialpeer-detail": "dialpeer",
    "api:routingcheck-detail": "check",
    "api:translationset-detail": "translationset",
    "api:translationrule-detail": "translationrule",
    "api:numberlist-detail": "numberlist",
    "api:numberlistentry-detail": "numberlistentry",
    "api:schedule-detail": "schedule",
    "api:schedulewindow-detail": "schedulewindow",
}

# Routes whose parameter names no object (the same for every tenant): the value to fill in.
NOT_AN_ID = {"vmgate:importupload_add": {"kind": "networks"}}

ID_ROUTES = [route for route in all_routes() if route.params and route.name not in NOT_AN_ID]
MISSING = 987_654_321  # an id no row has


def test_every_route_with_an_id_is_covered():
    uncovered = [f"{r.name} ({r.pattern})" for r in ID_ROUTES if r.name not in ID_OF]
    assert not uncovered, f"add these routes to ID_OF: {uncovered}"
    assert not [r for r in ID_ROUTES if len(r.params) != 1], "one id per route expected"
    stale = set(ID_OF) - {r.name for r in ID_ROUTES}
    assert not stale, f"routes gone from the URL conf: {stale}"


def object_world(tenant, login):
    """One object of every kind an id route names, in ``tenant`` (``login``'s API token)."""
    world = build_route_world(tenant)
    rate = RateFactory(rate_plan=world["plan"], code="3749")
    check = RoutingCheckFactory(trunk=world["trunk"])
    entry = BalanceEntry(customer=world["customer"], amount=Decimal("5.00"))
    entry.save()
    token, _ = APIToken.issue(login, "a token")
    target = RoutingTargetFactory(rule=world["rule"])
    upload, run = build_imports(tenant)
    # The routing policy, in use (a delete that leaked would be refused anyway: the entries,
    # rules and windows are what a leaked delete or edit would reach).
    translation_rule = TranslationRuleFactory(translation_set__tenant=tenant)
    list_entry = NumberListEntryFactory(number_list__tenant=tenant)
    window = ScheduleWindowFactory(schedule__tenant=tenant)
    world["trunk"].ingress_translation = translation_rule.translation_set
    world["trunk"].save()
    world["trunk"].number_lists.add(list_entry.number_list)
    target.schedule = window.schedule
    target.save()
    return {
        "customer": world["customer"],
        "trunk": world["trunk"],
        "plan": world["plan"],
        "rate": rate,
        "network": world["gw_a"].network,
        "client": world["gw_a"],
        "rule": world["rule"],
        "target": target,
        "check": check,
        "dialpeer": world["dialpeer"],
        "balanceentry": entry,
        "apitoken": token,
        "upload": upload,
        "run": run,
        "translationset": translation_rule.translation_set,
        "translationrule": translation_rule,
        "numberlist": list_entry.number_list,
        "numberlistentry": list_entry,
        "schedule": window.schedule,
        "schedulewindow": window,
    }


@pytest.fixture
def world_b(other_tenant, other_operator):
    return object_world(other_tenant, other_operator)


def snapshot(world):
    """Everything of B's that a leaked write could change."""
    out = {}
    for kind, obj in world.items():
        fresh = type(obj)._default_manager.filter(pk=obj.pk).values().first()
        out[kind] = fresh
    return out


def body_of(response):
    return response.content.decode(errors="replace")


@pytest.fixture
def clients(tenant, operator):
    page = Client(raise_request_exception=False)
    page.force_login(operator)
    api = token_client(operator)
    api.raise_request_exception = False
    return page, api


def normalized(response, path):
    """The body with what differs between any two answers taken out: the CSRF token and
    the requested path."""
    text = body_of(response).replace(path, "<path>")
    return re.sub(r"[A-Za-z0-9]{64}", "<csrf>", text)


def _assert_same_answer(route, method, theirs, missing, paths):
    assert theirs.status_code == missing.status_code, (route.name, method)
    assert theirs.status_code in (404, 405), (route.name, method, theirs.status_code)
    if route.name.startswith("api:"):
        assert theirs.json() == missing.json(), (route.name, method)
    assert normalized(theirs, paths[0]) == normalized(missing, paths[1]), (route.name, method)


def test_tenant_b_ids_answer_like_missing_ids_on_every_route(clients, world_b):
    page, api = clients
    before = snapshot(world_b)
    covered = 0
    for route in ID_ROUTES:
        obj = world_b[ID_OF[route.name]]
        param = route.params[0]
        theirs_path = route.path(**{param: obj.pk})
        missing_path = route.path(**{param: MISSING})
        if route.name.startswith("api:"):
            calls = [
                ("GET", lambda p: api.get(p)),
                ("POST", lambda p: api.post(p, {}, format="json")),
                ("PUT", lambda p: api.put(p, {"name": "leak"}, format="json")),
                ("PATCH", lambda p: api.patch(p, {"name": "leak"}, format="json")),
                ("DELETE", lambda p: api.delete(p)),
            ]
        else:
            calls = [
                ("GET", lambda p: page.get(p)),
                ("POST", lambda p: page.post(p, {"name": "leak", "confirm": "1"})),
            ]
        for method, call in calls:
            _assert_same_answer(
                route, method, call(theirs_path), call(missing_path), (theirs_path, missing_path)
            )
            covered += 1
    assert covered >= 2 * len(ID_ROUTES)
    assert snapshot(world_b) == before, "a request of tenant A changed tenant B's data"


def test_the_same_routes_answer_tenant_b_itself(world_b, other_operator):
    """The check above can fail: B's own login reaches every one of these objects."""
    page = Client(raise_request_exception=False)
    page.force_login(other_operator)
    api = token_client(other_operator)
    for route in ID_ROUTES:
        obj = world_b[ID_OF[route.name]]
        path = route.path(**{route.params[0]: obj.pk})
        if route.name.startswith("api:"):
            assert api.get(path).status_code == 200, route.name
        elif not route.name.endswith(
            ("_delete", "_block", "_unblock", "_run", "_apply", "_cancel")
        ):
            assert page.get(path).status_code == 200, route.name
    # The POST-only import actions: B applies its own upload, and cancels another.
    upload = world_b["upload"]
    assert page.post(f"/imports/{upload.pk}/apply/").status_code == 302
    assert not type(upload).objects.filter(pk=upload.pk).exists()  # applied
    other, _ = build_imports(upload.tenant)
    assert page.post(f"/imports/{other.pk}/cancel/").status_code == 302
    assert not type(upload).objects.filter(pk=other.pk).exists()
