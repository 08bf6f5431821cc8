"""Behaviour of the routing rule pages: display, label fill, trunk scope, clash refusals,
remove refusals, target rows, and the "carries no traffic" badge."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from routing.models import RoutingRule, RoutingTarget, VMGateClient
from tests.factories import (
    DialpeerFactory,
    NetworkFactory,
    RoutingRuleFactory,
    RoutingTargetFactory,
    SimSlotFactory,
    TrunkFactory,
    VMGateClientFactory,
)

pytestmark = pytest.mark.django_db


def rule_rows(op_client, **params):
    response = op_client.get(reverse("routing:routingrule_list"), params)
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(r'<tr[^>]*data-pk="(\d+)"', response.content.decode())]


def rule_data(**over):
    data = {"assignment": "weight", "code": "374", "label": "", "trunk": "", "is_active": "on"}
    data.update(over)
    return data


def row_html(op_client, rule):
    body = op_client.get(reverse("routing:routingrule_list")).content.decode()
    match = re.search(rf'<tr[^>]*data-pk="{rule.pk}".*?</tr>', body, re.S)
    assert match, body
    return match.group(0)


# display ----------------------------------------------------------------------------------
def test_the_catch_all_rule_reads_any_in_the_list_and_on_its_page(op_client, tenant):
    rule = RoutingRuleFactory(tenant=tenant, code="")
    assert "* (any)" in row_html(op_client, rule)
    detail = op_client.get(reverse("routing:routingrule_detail", args=[rule.pk]))
    assert "* (any)" in detail.content.decode()


def test_the_list_shows_assignment_scope_label_and_targets_summary(op_client, tenant):
    trunk = TrunkFactory(customer__tenant=tenant, customer__name="Acme", name="sip-1")
    rule = RoutingRuleFactory(tenant=tenant, code="374", assignment="priority", trunk=trunk)
    RoutingTargetFactory(rule=rule)
    RoutingTargetFactory(rule=rule)
    RoutingTargetFactory(rule=rule, client=None, network=NetworkFactory(tenant=tenant))
    unscoped = RoutingRuleFactory(tenant=tenant, code="39")
    html = row_html(op_client, rule)
    for text in ("374", "Priority", "Acme / sip-1", "Armenia", "2 clients, 1 network"):
        assert text in html
    assert "All trunks" in row_html(op_client, unscoped)
    assert "no targets" in row_html(op_client, unscoped)


# label ------------------------------------------------------------------------------------
def test_leaving_the_code_field_fills_the_label_from_the_dialplan(op_client, tenant):
    response = op_client.get(reverse("routing:rule_label"), {"code": "374", "label": ""})
    assert 'value="Armenia"' in response.content.decode()
    assert 'name="label_auto" value="Armenia"' in response.content.decode()


def test_a_label_the_operator_typed_is_not_overwritten(op_client, tenant):
    url = reverse("routing:rule_label")
    typed = op_client.get(url, {"code": "39", "label": "My label", "label_auto": "Armenia"})
    assert 'value="My label"' in typed.content.decode()
    auto = op_client.get(url, {"code": "39", "label": "Armenia", "label_auto": "Armenia"})
    assert 'value="Italy"' in auto.content.decode()


def test_garbage_codes_give_an_empty_label_not_an_error(op_client, tenant):
    for code in ("abc", "\x00", "1" * 40, "١٢"):
        response = op_client.get(reverse("routing:rule_label"), {"code": code})
        assert response.status_code == 200


def test_saving_with_an_empty_label_fills_it(op_client, tenant):
    response = op_client.post(reverse("routing:routingrule_add"), rule_data(code="374"))
    assert response.status_code == 302
    rule = RoutingRule.objects.get(tenant=tenant)
    assert rule.label == "Armenia"
    # A new rule has no targets yet: the operator lands on its targets page.
    assert response["Location"] == reverse("routing:routingrule_targets", args=[rule.pk])


def test_the_add_form_explains_both_assignment_modes(op_client, tenant):
    body = op_client.get(reverse("routing:routingrule_add")).content.decode()
    assert "Least-loaded VMGateClient first" in body
    assert "round-robin" in body


# trunk scope -----------------------------------------------------------------------------
def test_scope_select_renders_only_the_chosen_trunk_and_searches_this_tenants(
    op_client, tenant, other_tenant
):
    mine = [TrunkFactory(customer__tenant=tenant, name=f"mine-{i}") for i in range(3)]
    theirs = TrunkFactory(customer__tenant=other_tenant, name="theirs-1")
    body = op_client.get(reverse("routing:routingrule_add")).content.decode()
    select = re.search(r'<select name="trunk".*?</select>', body, re.S).group(0)
    assert re.findall(r"<option[^>]*>([^<]*)<", select) == ["All trunks"]
    url = reverse("customers:trunk_options")
    options = op_client.get(url, {"empty": "all"}).content.decode()
    assert all(t.name in options for t in mine)
    assert "theirs" not in options
    assert op_client.get(url, {"q": "theirs"}).content.decode() == (
        '<option value="">No match</option>'
    )
    selected = op_client.get(url, {"trunk": theirs.pk})
    assert f'value="{theirs.pk}"' not in selected.content.decode()


def test_a_forged_scope_of_another_tenants_trunk_is_refused(op_client, tenant, other_tenant):
    theirs = TrunkFactory(customer__tenant=other_tenant)
    response = op_client.post(reverse("routing:routingrule_add"), rule_data(trunk=theirs.pk))
    assert response.status_code == 200
    assert "Select a valid choice" in str(response.context["form"].errors["trunk"])
    assert not RoutingRule.objects.filter(tenant=tenant).exists()


def test_a_rule_can_be_scoped_to_one_trunk(op_client, tenant):
    trunk = TrunkFactory(customer__tenant=tenant)
    response = op_client.post(reverse("routing:routingrule_add"), rule_data(trunk=trunk.pk))
    assert response.status_code == 302
    assert RoutingRule.objects.get(tenant=tenant).trunk == trunk


# clash refusals ---------------------------------------------------------------------------
def test_editing_a_code_into_a_clash_on_a_trunk_is_refused_naming_the_dialpeer(op_client, tenant):
    trunk = TrunkFactory(customer__tenant=tenant, name="sip-1")
    armenia = RoutingRuleFactory(tenant=tenant, code="374")
    italy = RoutingRuleFactory(tenant=tenant, code="39")
    DialpeerFactory(trunk=trunk, rule=armenia, name="Acme Armenia")
    DialpeerFactory(trunk=trunk, rule=italy, name="Acme Italy")
    response = op_client.post(
        reverse("routing:routingrule_edit", args=[italy.pk]), rule_data(code="374")
    )
    assert response.status_code == 200
    errors = str(response.context["form"].errors["code"])
    assert "Acme Armenia" in errors and "sip-1" in errors
    italy.refresh_from_db()
    assert italy.code == "39"


def test_scoping_a_linked_rule_to_another_trunk_is_refused_naming_the_dialpeers(op_client, tenant):
    t1 = TrunkFactory(customer__tenant=tenant, name="sip-1")
    t2 = TrunkFactory(customer=t1.customer, name="sip-2")
    rule = RoutingRuleFactory(tenant=tenant, code="374")
    DialpeerFactory(trunk=t1, rule=rule, name="Acme Armenia")
    response = op_client.post(
        reverse("routing:routingrule_edit", args=[rule.pk]), rule_data(trunk=t2.pk)
    )
    assert response.status_code == 200
    assert "Acme Armenia" in str(response.context["form"].errors["trunk"])
    rule.refresh_from_db()
    assert rule.trunk is None


# remove -----------------------------------------------------------------------------------
def test_removing_a_linked_rule_is_refused_listing_the_dialpeers(op_client, tenant):
    rule = RoutingRuleFactory(tenant=tenant, code="374")
    dp1 = DialpeerFactory(trunk__customer__tenant=tenant, rule=rule, name="Acme Armenia")
    dp2 = DialpeerFactory(trunk__customer__tenant=tenant, rule=rule, name="Globex Armenia")
    url = reverse("routing:routingrule_delete", args=[rule.pk])
    page = op_client.get(url).content.decode()
    assert "Acme Armenia" in page and "Globex Armenia" in page
    for dp in (dp1, dp2):
        link = dp.get_absolute_url()
        if link:
            assert f'href="{link}"' in page
    response = op_client.post(url, follow=True)
    assert "Acme Armenia" in response.content.decode()
    assert RoutingRule.objects.filter(pk=rule.pk).exists()
    # The list's ⋮ menu shows Remove rule disabled with the reason.
    assert "Linked by 2 dialpeers." in row_html(op_client, rule)


def test_an_unlinked_rule_is_removed_with_its_targets(op_client, tenant):
    target = RoutingTargetFactory(rule__tenant=tenant)
    response = op_client.post(reverse("routing:routingrule_delete", args=[target.rule_id]))
    assert response.status_code == 302
    assert not RoutingTarget.objects.filter(pk=target.pk).exists()


def test_rule_detail_lists_targets_dialpeers_and_history(op_client, tenant):
    rule = RoutingRuleFactory(tenant=tenant, code="374")
    target = RoutingTargetFactory(rule=rule)
    DialpeerFactory(trunk__customer__tenant=tenant, rule=rule, name="Acme Armenia")
    body = op_client.get(reverse("routing:routingrule_detail", args=[rule.pk])).content.decode()
    assert target.client.name in body
    assert "Acme Armenia" in body
    assert 'data-testid="history"' in body


# targets ----------------------------------------------------------------------------------
def add_target(op_client, rule, htmx=True, **fields):
    data = {"new-weight": "1", "new-priority": "0", "new-is_active": "on"}
    data.update({f"new-{k}": v for k, v in fields.items()})
    headers = {"HX-Request": "true"} if htmx else {}
    return op_client.post(
        reverse("routing:routingtarget_add", args=[rule.pk]), data, headers=headers
    )


def test_a_target_row_with_two_kinds_or_none_is_refused(op_client, tenant):
    rule = RoutingRuleFactory(tenant=tenant)
    client = VMGateClientFactory(network__tenant=tenant)
    both = add_target(op_client, rule, kind="client", client=client.pk, network=client.network_id)
    assert "Choose exactly one of network, VMGateClient or SIM slot." in both.content.decode()
    none = add_target(op_client, rule, kind="client")
    assert "Choose exactly one of network, VMGateClient or SIM slot." in none.content.decode()
    mismatch = add_target(op_client, rule, kind="network", client=client.pk)
    assert "not of the chosen type" in mismatch.content.decode()
    assert not rule.targets.exists()


def test_a_forged_target_of_another_tenant_is_refused(op_client, tenant, other_tenant):
    rule = RoutingRuleFactory(tenant=tenant)
    theirs = SimSlotFactory(client__network__tenant=other_tenant)
    for kind, pk in (
        ("client", theirs.client_id),
        ("network", theirs.client.network_id),
        ("sim_slot", theirs.pk),
    ):
        response = add_target(op_client, rule, kind=kind, **{kind: pk})
        assert "Select a valid choice" in response.content.decode()
    assert not rule.targets.exists()


def test_adding_a_sim_slot_target_shows_it_as_client_and_slot(op_client, tenant):
    rule = RoutingRuleFactory(tenant=tenant)
    slot = SimSlotFactory(client__network__tenant=tenant, client__name="gw-7", position=2)
    response = add_target(op_client, rule, kind="sim_slot", sim_slot=slot.pk)
    body = response.content.decode()
    assert "gw-7 · slot 2" in body
    assert 'data-testid="target-add-row"' in body  # a fresh add row comes back too
    assert rule.targets.get().sim_slot == slot


def test_a_target_row_is_saved_and_removed_without_leaving_the_page(op_client, tenant):
    rule = RoutingRuleFactory(tenant=tenant, assignment="priority")
    target = RoutingTargetFactory(rule=rule, priority=0)
    p = f"t{target.pk}"
    response = op_client.post(
        reverse("routing:routingtarget_edit", args=[target.pk]),
        {
            f"{p}-kind": "client",
            f"{p}-client": target.client_id,
            f"{p}-priority": "3",
            f"{p}-weight": "1",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    target.refresh_from_db()
    assert (target.priority, target.is_active) == (3, False)
    response = op_client.post(
        reverse("routing:routingtarget_delete", args=[target.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert 'hx-swap-oob="true"' in response.content.decode()
    assert not rule.targets.exists()


def test_priority_mode_shows_priority_and_weight_mode_shows_weight(op_client, tenant):
    rule = RoutingRuleFactory(tenant=tenant, assignment="weight")
    target = RoutingTargetFactory(rule=rule, priority=4, weight=9)
    url = reverse("routing:routingrule_targets", args=[rule.pk])
    body = op_client.get(url).content.decode()
    assert re.search(rf'type="number" name="t{target.pk}-weight" value="9"', body)
    assert re.search(rf'type="hidden" name="t{target.pk}-priority" value="4"', body)
    rule.assignment = "priority"
    rule.save()
    body = op_client.get(url).content.decode()
    assert re.search(rf'type="number" name="t{target.pk}-priority" value="4"', body)
    assert re.search(rf'type="hidden" name="t{target.pk}-weight" value="9"', body)


def test_changing_a_rows_type_offers_the_select_of_that_type(op_client, tenant):
    response = op_client.get(
        reverse("routing:target_field"), {"prefix": "t5", "t5-kind": "sim_slot"}
    )
    assert 'name="t5-sim_slot"' in response.content.decode()
    assert "kind=sim_slot" in response.content.decode()
    garbage = op_client.get(reverse("routing:target_field"), {"prefix": "x\x00", "kind": "zzz"})
    assert garbage.status_code == 200
    assert "Choose a type first" in garbage.content.decode()


def test_the_targets_page_query_count_does_not_grow_with_targets(op_client, tenant):
    rule = RoutingRuleFactory(tenant=tenant)
    RoutingTargetFactory(rule=rule)
    url = reverse("routing:routingrule_targets", args=[rule.pk])
    with CaptureQueriesContext(connection) as one:
        assert op_client.get(url).status_code == 200
    network = NetworkFactory(tenant=tenant)
    for _ in range(3):
        RoutingTargetFactory(rule=rule)
        RoutingTargetFactory(rule=rule, client=None, network=network)
        RoutingTargetFactory(
            rule=rule, client=None, sim_slot=SimSlotFactory(client__network=network)
        )
    with CaptureQueriesContext(connection) as ten:
        assert op_client.get(url).status_code == 200
    assert len(ten) == len(one), [q["sql"] for q in ten.captured_queries]


def test_a_viewer_sees_the_targets_read_only(viewer_client, tenant):
    target = RoutingTargetFactory(rule__tenant=tenant)
    body = viewer_client.get(
        reverse("routing:routingrule_targets", args=[target.rule_id])
    ).content.decode()
    assert target.client.name in body
    assert "<form" not in body.split("</nav>", 1)[1]


# target option endpoints ------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["network", "client", "sim_slot"])
def test_target_options_are_this_tenants_only(op_client, tenant, other_tenant, kind):
    mine = SimSlotFactory(client__network__tenant=tenant, client__name="gw-mine")
    theirs = SimSlotFactory(client__network__tenant=other_tenant, client__name="gw-theirs")
    mine.client.network.name, theirs.client.network.name = "net-mine", "net-theirs"
    mine.client.network.save(), theirs.client.network.save()
    url = reverse("routing:target_options")
    body = op_client.get(url, {"kind": kind}).content.decode()
    assert "mine" in body and "theirs" not in body
    own = {"network": mine.client.network, "client": mine.client, "sim_slot": mine}[kind]
    foreign = {"network": theirs.client.network, "client": theirs.client, "sim_slot": theirs}[kind]
    assert f'value="{own.pk}"' in body
    forged = op_client.get(url, {"kind": kind, kind: foreign.pk}).content.decode()
    assert f'value="{foreign.pk}"' not in forged
    searched = op_client.get(url, {"kind": kind, "q": "theirs"}).content.decode()
    assert searched == '<option value="">No match</option>'


@pytest.mark.parametrize("kind", ["", "zzz", "\x00", "rule"])
def test_an_unknown_target_kind_gives_only_the_empty_option(op_client, tenant, kind):
    VMGateClientFactory(network__tenant=tenant)
    body = op_client.get(reverse("routing:target_options"), {"kind": kind, "q": "\x00"})
    assert body.content.decode() == '<option value="">---------</option>'


def test_target_options_are_bounded(op_client, tenant):
    network = NetworkFactory(tenant=tenant)
    VMGateClient.objects.bulk_create(
        VMGateClient(tenant=tenant, network=network, name=f"gw-{i:03}", node_id=f"n{i}")
        for i in range(60)
    )
    body = op_client.get(reverse("routing:target_options"), {"kind": "client"}).content.decode()
    assert body.count("<option") == 51  # the empty option + 50


def test_option_endpoints_need_a_login(client, tenant):
    for name in (
        "routing:target_options",
        "routing:rule_options",
        "routing:rule_label",
        "routing:target_field",
    ):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# the "carries no traffic" badge -----------------------------------------------------------
def no_traffic(op_client, rule):
    return 'data-testid="no-traffic"' in row_html(op_client, rule)


def test_the_no_traffic_badge_follows_targets_and_client_state(op_client, tenant):
    rule = RoutingRuleFactory(tenant=tenant, code="374")
    assert no_traffic(op_client, rule)  # no targets
    client = VMGateClientFactory(network__tenant=tenant)
    response = add_target(op_client, rule, kind="client", client=client.pk)
    assert 'data-testid="no-traffic"' not in response.content.decode()  # oob banner
    assert not no_traffic(op_client, rule)
    target = rule.targets.get()
    target.is_active = False
    target.save()
    assert no_traffic(op_client, rule)
    target.is_active = True
    target.save()
    assert not no_traffic(op_client, rule)
    client.status = VMGateClient.OFF
    client.save()
    assert no_traffic(op_client, rule)
    rule.is_active = False
    rule.save()
    assert not no_traffic(op_client, rule)  # an inactive rule reads "Inactive" instead
    assert "Inactive" in row_html(op_client, rule)


def test_network_and_sim_slot_targets_count_only_with_a_ready_client(op_client, tenant):
    rule = RoutingRuleFactory(tenant=tenant)
    network = NetworkFactory(tenant=tenant)
    off = VMGateClientFactory(network=network, status=VMGateClient.OFF)
    RoutingTargetFactory(rule=rule, client=None, network=network)
    assert no_traffic(op_client, rule)
    ready = VMGateClientFactory(network=network, status=VMGateClient.READY)
    assert not no_traffic(op_client, rule)
    ready.status = VMGateClient.NO_DONGLE
    ready.save()
    slot = SimSlotFactory(client=off, position=1, enabled=True)
    slot_rule = RoutingRuleFactory(tenant=tenant, code="39")
    RoutingTargetFactory(rule=slot_rule, client=None, sim_slot=slot)
    assert no_traffic(op_client, slot_rule)  # client off
    off.status = VMGateClient.READY
    off.save()
    assert not no_traffic(op_client, slot_rule)
    slot.enabled = False
    slot.save()
    assert no_traffic(op_client, slot_rule)


# filters and search -----------------------------------------------------------------------
def test_rule_filters_and_search(op_client, tenant):
    trunk = TrunkFactory(customer__tenant=tenant)
    armenia = RoutingRuleFactory(tenant=tenant, code="374")
    RoutingTargetFactory(rule=armenia)
    mobile = RoutingRuleFactory(tenant=tenant, code="3749", assignment="priority", trunk=trunk)
    italy = RoutingRuleFactory(tenant=tenant, code="39", is_active=False)
    any_ = RoutingRuleFactory(tenant=tenant, code="")
    RoutingRuleFactory(tenant=TrunkFactory().tenant, code="374")  # another tenant's
    assert sorted(rule_rows(op_client, q="374")) == sorted([armenia.pk, mobile.pk])
    assert rule_rows(op_client, q="ital") == [italy.pk]
    assert rule_rows(op_client, q="*") == [any_.pk]
    assert rule_rows(op_client, assignment="priority") == [mobile.pk]
    assert rule_rows(op_client, scope="trunk") == [mobile.pk]
    assert rule_rows(op_client, trunk=trunk.pk) == [mobile.pk]
    assert rule_rows(op_client, status="inactive") == [italy.pk]
    assert sorted(rule_rows(op_client, status="no_traffic")) == sorted([mobile.pk, any_.pk])
    assert rule_rows(op_client, has_targets="yes") == [armenia.pk]
    assert rule_rows(op_client, sort="-code")[0] == italy.pk
    assert op_client.get(reverse("routing:routingrule_list"), {"q": "\x00"}).status_code == 200
    assert op_client.get(reverse("routing:routingrule_list"), {"trunk": "abc"}).status_code == 200


def test_rule_list_query_count_is_flat_with_trunk_scoped_rules(op_client, tenant):
    def scoped_rule(i):
        trunk = TrunkFactory(customer__tenant=tenant)
        RoutingTargetFactory(rule__tenant=tenant, rule__code=f"37{i}", rule__trunk=trunk)

    scoped_rule(0)
    url = reverse("routing:routingrule_list")
    with CaptureQueriesContext(connection) as one:
        assert op_client.get(url).status_code == 200
    for i in range(1, 30):
        scoped_rule(i)
    with CaptureQueriesContext(connection) as many:
        body = op_client.get(url).content.decode()
    assert len(many) == len(one), [q["sql"] for q in many.captured_queries]
    assert body.count(" / trunk-") == 25


def test_rule_list_pages_in_code_order_and_searches_exact_prefixes(op_client, tenant):
    codes = [f"{n}" for n in range(3700, 3730)] + ["374", "37", "3", "374999999999999"]
    rules = {c: RoutingRuleFactory(tenant=tenant, code=c) for c in codes}
    ordered = [rules[c].pk for c in sorted(codes)]
    assert rule_rows(op_client) == ordered[:25]
    assert rule_rows(op_client, page=2) == ordered[25:]
    assert rule_rows(op_client, page=2, sort="-code") == list(reversed(ordered))[25:]
    assert rule_rows(op_client, q="374") == [rules["374"].pk, rules["374999999999999"].pk]
    assert rule_rows(op_client, q="3" * 16) == []
