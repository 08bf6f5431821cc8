"""Invariants of the target inventory and routing rules (SPEC §3)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from routing.dialplan import label_for_code
from routing.models import RoutingRule, RoutingTarget, SimSlot, VMGateClient
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


def errors_of(obj):
    with pytest.raises(ValidationError) as exc:
        obj.full_clean()
    return exc.value.message_dict


@pytest.mark.parametrize(
    "code, label",
    [
        ("374", "Armenia"),
        ("39", "Italy"),
        ("", "* (any)"),
        ("44", "United Kingdom"),
        ("1876", "Jamaica"),
    ],
)
def test_dialplan_labels_come_from_phonenumbers(code, label):
    assert label_for_code(code) == label


def test_dialplan_gives_nanp_a_sensible_label():
    assert "NANP" in label_for_code("1")


def test_rules_read_as_code_and_label(tenant):
    assert str(RoutingRuleFactory(tenant=tenant, code="374", label="")) == "374 — Armenia"
    assert str(RoutingRuleFactory(tenant=tenant, code="", label="")) == "* (any)"


def test_a_label_typed_by_the_operator_is_kept(tenant):
    assert RoutingRuleFactory(tenant=tenant, code="374", label="AM mobile").label == "AM mobile"


@pytest.mark.parametrize("code", ["٣٧٤", "３７４", "37 4", "+374", "1234567890123456", "3\x00"])
def test_rule_codes_are_0_to_15_ascii_digits(tenant, code):
    assert "code" in errors_of(RoutingRule(tenant=tenant, code=code, label="x"))


def test_rule_scoped_to_another_tenants_trunk_is_refused(tenant, other_tenant):
    theirs = TrunkFactory(tenant=other_tenant, customer__tenant=other_tenant)
    assert "trunk" in errors_of(RoutingRule(tenant=tenant, code="1", trunk=theirs))


def test_a_target_has_exactly_one_kind(tenant):
    rule = RoutingRuleFactory(tenant=tenant)
    net = NetworkFactory(tenant=tenant)
    client = VMGateClientFactory(network=net)
    assert errors_of(RoutingTarget(rule=rule))
    assert errors_of(RoutingTarget(rule=rule, network=net, client=client))


def test_a_target_with_two_kinds_is_refused_by_the_database_too(tenant):
    rule = RoutingRuleFactory(tenant=tenant)
    net = NetworkFactory(tenant=tenant)
    client = VMGateClientFactory(network=net)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoutingTarget.objects.create(rule=rule, network=net, client=client)


def test_a_target_of_another_tenant_is_refused(tenant, other_tenant):
    rule = RoutingRuleFactory(tenant=tenant)
    theirs = VMGateClientFactory(network__tenant=other_tenant)
    assert "client" in errors_of(RoutingTarget(rule=rule, client=theirs))


def test_target_weight_is_1_to_100(tenant):
    rule = RoutingRuleFactory(tenant=tenant)
    client = VMGateClientFactory(network__tenant=tenant)
    assert "weight" in errors_of(RoutingTarget(rule=rule, client=client, weight=0))
    assert "weight" in errors_of(RoutingTarget(rule=rule, client=client, weight=101))


def test_sim_slot_positions_are_1_to_8_and_unique_per_client(tenant):
    slot = SimSlotFactory(client__network__tenant=tenant, position=1)
    assert errors_of(SimSlot(client=slot.client, position=1))
    assert "position" in errors_of(SimSlot(client=slot.client, position=9))
    assert "position" in errors_of(SimSlot(client=slot.client, position=0))


def test_client_node_ids_are_unique_per_tenant(tenant, other_tenant):
    client = VMGateClientFactory(network__tenant=tenant, node_id="n1")
    dup = VMGateClient(tenant=tenant, network=client.network, name="x", node_id="n1")
    assert "__all__" in errors_of(dup) or "node_id" in errors_of(dup)
    net_b = NetworkFactory(tenant=other_tenant)
    VMGateClient(tenant=other_tenant, network=net_b, name="x", node_id="n1").full_clean()


def test_client_on_another_tenants_network_is_refused(tenant, other_tenant):
    net_b = NetworkFactory(tenant=other_tenant)
    assert "network" in errors_of(VMGateClient(tenant=tenant, network=net_b, name="x", node_id="n"))


def test_a_network_used_by_clients_cannot_be_deleted(tenant):
    client = VMGateClientFactory(network__tenant=tenant)
    with pytest.raises(ProtectedError):
        client.network.delete()


def test_a_rule_linked_by_a_dialpeer_cannot_be_deleted():
    dialpeer = DialpeerFactory()
    with pytest.raises(ProtectedError):
        dialpeer.rule.delete()


def test_a_client_used_by_a_target_cannot_be_deleted():
    target = RoutingTargetFactory()
    with pytest.raises(ProtectedError):
        target.client.delete()


def test_scoping_a_rule_to_one_trunk_is_refused_while_other_trunks_link_it():
    dialpeer = DialpeerFactory(rule__code="374")
    other = TrunkFactory(customer=dialpeer.customer, tenant=dialpeer.tenant)
    rule = dialpeer.rule
    rule.trunk = other
    assert "trunk" in errors_of(rule)


def test_changing_a_rule_code_into_a_clash_on_a_trunk_is_refused_naming_the_dialpeer():
    first = DialpeerFactory(rule__code="374", name="AM main")
    second = DialpeerFactory(trunk=first.trunk, rule__code="39", rule__tenant=first.tenant)
    rule = second.rule
    rule.code = "374"
    assert "AM main" in errors_of(rule)["code"][0]


def test_editing_a_linked_rule_with_a_nul_byte_in_the_code_is_a_field_error():
    rule = DialpeerFactory().rule
    rule.code = "37\x00"
    assert "code" in errors_of(rule)
