"""Concurrent writers against the real database (one thread and connection each, released
by a barrier): "one trunk, one active dialpeer per code" and the (customer, rule, trunk)
uniqueness hold whichever path writes — the operator form, the API, the admin, the bulk
action, an import, or all of them at once. Exactly one write wins; every other is refused naming the
winner; nothing answers 5xx."""

from functools import partial

import pytest
from django.urls import reverse

from dialpeers.models import Dialpeer
from routing.models import RoutingRule
from tests.factories import DialpeerFactory, RoutingRuleFactory, TrunkFactory
from tests.race import (
    RACERS,
    admin_call,
    api_call,
    api_client,
    assert_one_winner,
    bulk_call,
    fire_at_once,
    form_call,
    import_call,
    session_client,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def trunk(tenant):
    return TrunkFactory(customer__tenant=tenant, name="acme-main")


def creators(paths, trunk, operator, staff_user):
    """One create call per entry of ``paths``, each linking a different rule of code 374."""
    tenant = trunk.tenant
    calls = []
    for i, path in enumerate(paths):
        rule = RoutingRuleFactory(tenant=tenant, code="374", label=f"AM {i}")
        data = {"name": f"AM {i}", "customer": trunk.customer_id, "trunk": trunk.pk}
        if path == "api":
            client = api_client(operator)
            body = {**data, "rule": rule.pk}
            calls.append(lambda c=client, b=body: api_call(c, "post", "/api/v1/dialpeers/", b))
        elif path == "form":
            client = session_client(operator)
            body = {**data, "rule": rule.pk}
            url = reverse("dialpeers:dialpeer_add")
            calls.append(lambda c=client, b=body, u=url: form_call(c, u, b))
        elif path == "admin":
            client = session_client(staff_user)
            body = {**data, "rule": rule.pk, "tenant": tenant.pk, "is_active": "on"}
            url = reverse("admin:dialpeers_dialpeer_add")
            calls.append(lambda c=client, b=body, u=url: admin_call(c, u, b))
        elif path == "api-activate":
            dp = DialpeerFactory(trunk=trunk, rule=rule, name=f"AM {i}", is_active=False)
            client = api_client(operator)
            url = f"/api/v1/dialpeers/{dp.pk}/"
            calls.append(lambda c=client, u=url: api_call(c, "patch", u, {"is_active": True}))
        elif path == "bulk":
            dp = DialpeerFactory(trunk=trunk, rule=rule, name=f"AM {i}", is_active=False)
            client = session_client(operator)
            body = {"action": "activate", "pk": [dp.pk]}
            url = reverse("dialpeers:dialpeer_bulk")
            calls.append(lambda c=client, b=body, u=url: bulk_call(c, u, b))
        elif path == "edit":
            dp = DialpeerFactory(trunk=trunk, rule=rule, name=f"AM {i}", is_active=False)
            client = session_client(operator)
            body = {**data, "rule": rule.pk, "is_active": "on"}
            url = reverse("dialpeers:dialpeer_edit", args=[dp.pk])
            calls.append(lambda c=client, b=body, u=url: form_call(c, u, b))
        elif path == "import":
            text = (
                "name,customer,trunk,rule,rule_id\n"
                f"AM {i},{trunk.customer.name},{trunk.name},374,{rule.pk}\n"
            )
            calls.append(lambda t=text: import_call(tenant, "dialpeers", t, operator))
        else:
            raise AssertionError(path)
    return calls


def assert_one_active_dialpeer_named_by_losers(trunk, outcomes):
    active = Dialpeer.objects.filter(trunk=trunk, is_active=True)
    assert active.count() == 1
    winner = active.get()
    assert_one_winner(
        outcomes, f"ialpeer “{winner.name}” already routes code 374 on trunk “acme-main”"
    )
    return winner


@pytest.mark.parametrize(
    "paths",
    [
        pytest.param(["api"] * RACERS, id="api"),
        pytest.param(["form"] * RACERS, id="form"),
        pytest.param(["admin"] * RACERS, id="admin"),
        pytest.param(["api-activate"] * RACERS, id="api-activate"),
        pytest.param(["bulk"] * RACERS, id="bulk"),
        pytest.param(["import"] * RACERS, id="import"),
        pytest.param(
            ["api", "form", "admin", "api-activate", "bulk", "edit", "import", "form"] * 2,
            id="mixed",
        ),
    ],
)
def test_concurrent_writers_of_one_code_on_one_trunk_leave_one_active_dialpeer(
    trunk, operator, staff_user, paths
):
    calls = creators(paths, trunk, operator, staff_user)
    outcomes = fire_at_once(calls)
    assert_one_active_dialpeer_named_by_losers(trunk, outcomes)
    # Refused creates stored nothing; refused activations left their dialpeer inactive.
    created = {"api", "form", "admin", "import"}
    pre_existing = sum(1 for p in paths if p not in created)
    won_by_create = sum(1 for p, o in zip(paths, outcomes, strict=True) if o.won and p in created)
    assert Dialpeer.objects.filter(trunk=trunk).count() == pre_existing + won_by_create


def test_identical_concurrent_creates_store_one_row_and_tell_the_others(
    trunk, operator, staff_user
):
    rule = RoutingRuleFactory(tenant=trunk.tenant, code="374")
    data = {"name": "Acme → Armenia", "customer": trunk.customer_id, "trunk": trunk.pk}
    api_url, form_url = "/api/v1/dialpeers/", reverse("dialpeers:dialpeer_add")
    admin_url = reverse("admin:dialpeers_dialpeer_add")
    admin_data = {**data, "rule": rule.pk, "tenant": trunk.tenant_id, "is_active": "on"}
    calls = []
    for i in range(RACERS):
        if i % 3 == 0:
            calls.append(
                partial(api_call, api_client(operator), "post", api_url, {**data, "rule": rule.pk})
            )
        elif i % 3 == 1:
            calls.append(
                partial(form_call, session_client(operator), form_url, {**data, "rule": rule.pk})
            )
        else:
            calls.append(partial(admin_call, session_client(staff_user), admin_url, admin_data))
    outcomes = fire_at_once(calls)
    winner = Dialpeer.objects.get()
    # Losers are told the combination exists or, when their checks straddled the winner's
    # commit, that the winner already routes the code: either way the winner is named.
    assert_one_winner(outcomes, f"“{winner.name}”")


def rule_editors(paths, trunk, operator, staff_user):
    """One rule per entry, each linked by an active dialpeer on ``trunk`` under its own code
    (38xx); each call changes its rule's code to 374."""
    tenant = trunk.tenant
    calls = []
    for i, path in enumerate(paths):
        rule = RoutingRuleFactory(tenant=tenant, code=f"38{i:02d}", label=f"R {i}")
        DialpeerFactory(trunk=trunk, rule=rule, name=f"DP {i}")
        if path == "api":
            client = api_client(operator)
            url = f"/api/v1/routing-rules/{rule.pk}/"
            calls.append(lambda c=client, u=url: api_call(c, "patch", u, {"code": "374"}))
        elif path == "form":
            client = session_client(operator)
            body = {"assignment": "weight", "code": "374", "label": f"R {i}", "trunk": ""}
            url = reverse("routing:routingrule_edit", args=[rule.pk])
            calls.append(lambda c=client, b=body, u=url: form_call(c, u, b))
        elif path == "admin":
            client = session_client(staff_user)
            body = {
                "tenant": tenant.pk,
                "code": "374",
                "label": f"R {i}",
                "assignment": "weight",
                "trunk": "",
                "is_active": "on",
                "targets-TOTAL_FORMS": 0,
                "targets-INITIAL_FORMS": 0,
            }
            url = reverse("admin:routing_routingrule_change", args=[rule.pk])
            calls.append(lambda c=client, b=body, u=url: admin_call(c, u, b))
        else:
            raise AssertionError(path)
    return calls


@pytest.mark.parametrize(
    "paths",
    [
        pytest.param(["api"] * RACERS, id="api"),
        pytest.param(["form", "admin", "api"] * 5 + ["form"], id="mixed"),
    ],
)
def test_concurrent_rule_code_edits_leave_one_rule_routing_the_code(
    trunk, operator, staff_user, paths
):
    calls = rule_editors(paths, trunk, operator, staff_user)
    outcomes = fire_at_once(calls)
    assert RoutingRule.objects.filter(code="374").count() == 1
    winner = Dialpeer.objects.get(rule__code="374")
    assert list(Dialpeer.objects.filter(trunk=trunk, is_active=True, code="374")) == [winner]
    assert_one_winner(
        outcomes,
        f"trunk acme-main already routes code 374 through dialpeer “{winner.name}”",
    )
