"""Invariants of Customer, Trunk, TrunkNetwork, RatePlan and Rate (SPEC §3)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from customers.models import Customer, Trunk, TrunkNetwork
from customers.netutils import normalise_network
from tests.factories import (
    CustomerFactory,
    RateFactory,
    RatePlanFactory,
    TrunkFactory,
    TrunkNetworkFactory,
)

pytestmark = pytest.mark.django_db


def errors_of(obj):
    with pytest.raises(ValidationError) as exc:
        obj.full_clean()
    return exc.value.message_dict


def test_customer_names_are_unique_per_tenant_ignoring_case(tenant, other_tenant):
    CustomerFactory(tenant=tenant, name="Acme")
    assert "name" in errors_of(Customer(tenant=tenant, name="ACME", country="AM"))
    Customer(tenant=other_tenant, name="acme", country="AM").full_clean()


def test_customer_name_case_clash_is_refused_by_the_database_too(tenant):
    CustomerFactory(tenant=tenant, name="Acme")
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(tenant=tenant, name="acme", country="AM")


def test_customer_name_with_a_nul_byte_is_refused(tenant):
    assert "name" in errors_of(Customer(tenant=tenant, name="Ac\x00me", country="AM"))


def test_customer_country_is_required(tenant):
    assert "country" in errors_of(Customer(tenant=tenant, name="X"))


def test_customer_credit_limits_cannot_be_negative(tenant):
    errs = errors_of(
        Customer(
            tenant=tenant,
            name="X",
            country="AM",
            credit_limit=Decimal("-1"),
            overdraft_limit=Decimal("-1"),
        )
    )
    assert {"credit_limit", "overdraft_limit"} <= set(errs)


@pytest.mark.parametrize(
    "kwargs, ok",
    [
        ({"billing_type": "prepaid", "balance": Decimal("0.01")}, True),
        ({"billing_type": "prepaid", "balance": Decimal("0")}, False),
        (
            {"billing_type": "postpaid", "balance": Decimal("-5"), "credit_limit": Decimal("10")},
            True,
        ),
        (
            {"billing_type": "postpaid", "balance": Decimal("-10"), "credit_limit": Decimal("10")},
            False,
        ),
        (
            {
                "billing_type": "postpaid",
                "balance": Decimal("-10"),
                "credit_limit": Decimal("10"),
                "overdraft_allowed": True,
                "overdraft_limit": Decimal("1"),
            },
            True,
        ),
        (
            {
                "billing_type": "postpaid",
                "balance": Decimal("-10"),
                "credit_limit": Decimal("10"),
                "overdraft_allowed": False,
                "overdraft_limit": Decimal("100"),
            },
            False,
        ),
        ({"billing_type": "postpaid", "balance": Decimal("-1000"), "credit_unlimited": True}, True),
    ],
)
def test_customer_balance_rule_of_spec_step_5(tenant, kwargs, ok):
    assert Customer(tenant=tenant, name="X", country="AM", **kwargs).can_take_calls() is ok


@pytest.mark.parametrize("prefix", ["1", "0099", "#12*", "1234567890"])
def test_trunk_tech_prefix_accepts_digits_hash_and_star(prefix):
    customer = CustomerFactory()
    Trunk(tenant=customer.tenant, customer=customer, name="t", tech_prefix=prefix).full_clean()


@pytest.mark.parametrize(
    "prefix", ["", "12345678901", "12a", "+1", "٣٧٤", "３７４", "1 2", "1\x00"]
)
def test_trunk_tech_prefix_refuses_other_characters(prefix):
    customer = CustomerFactory()
    trunk = Trunk(tenant=customer.tenant, customer=customer, name="t", tech_prefix=prefix)
    assert "tech_prefix" in errors_of(trunk)


def test_trunk_needs_at_least_one_known_codec():
    customer = CustomerFactory()
    for codecs in ([], ["PCMA", "XYZ"], ["PCMA", "PCMA"], "PCMA"):
        trunk = Trunk(
            tenant=customer.tenant, customer=customer, name="t", tech_prefix="1", codecs=codecs
        )
        assert "codecs" in errors_of(trunk)


def test_trunk_names_are_unique_per_customer():
    trunk = TrunkFactory(name="sbc")
    dup = Trunk(tenant=trunk.tenant, customer=trunk.customer, name="sbc", tech_prefix="9")
    assert errors_of(dup)


def test_trunk_of_another_tenants_customer_is_refused(tenant, other_tenant):
    theirs = CustomerFactory(tenant=other_tenant)
    trunk = Trunk(tenant=tenant, customer=theirs, name="t", tech_prefix="1")
    assert errors_of(trunk)["customer"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]


def test_trunk_rate_plan_of_another_tenant_is_refused(tenant, other_tenant):
    customer = CustomerFactory(tenant=tenant)
    plan = RatePlanFactory(tenant=other_tenant)
    trunk = Trunk(tenant=tenant, customer=customer, name="t", tech_prefix="1", rate_plan=plan)
    assert "rate_plan" in errors_of(trunk)


@pytest.mark.parametrize(
    "raw, stored",
    [
        ("203.0.113.10", "203.0.113.10/32"),
        ("198.51.100.0/24", "198.51.100.0/24"),
        (" 2001:db8::1 ", "2001:db8::1/128"),
        ("2001:DB8:10::/48", "2001:db8:10::/48"),
    ],
)
def test_networks_are_normalised(raw, stored):
    assert normalise_network(raw) == stored


def test_host_bits_are_refused_with_the_corrected_range_suggested():
    with pytest.raises(ValidationError) as exc:
        normalise_network("10.0.0.1/24")
    assert "did you mean 10.0.0.0/24?" in exc.value.messages[0]


@pytest.mark.parametrize(
    "bad", ["0.0.0.0/0", "::/0", "fe80::1%eth0", "10.0.0.300", "abc", "", "10.0.0.0/33", "1\x00"]
)
def test_bad_networks_are_refused(bad):
    with pytest.raises(ValidationError):
        normalise_network(bad)


def test_the_same_network_twice_on_a_trunk_is_refused():
    net = TrunkNetworkFactory(network="203.0.113.10/32")
    assert "network" in errors_of(TrunkNetwork(trunk=net.trunk, network="203.0.113.10"))


def test_the_same_network_twice_is_refused_by_the_database_too():
    net = TrunkNetworkFactory(network="203.0.113.10/32")
    with pytest.raises(IntegrityError), transaction.atomic():
        TrunkNetwork.objects.create(trunk=net.trunk, network="203.0.113.10/32")


def test_overlapping_networks_with_the_same_tech_prefix_are_refused_naming_the_other_trunk(tenant):
    first = TrunkFactory(tenant=tenant, customer__tenant=tenant, tech_prefix="77", name="alpha")
    TrunkNetworkFactory(trunk=first, network="198.51.100.0/24")
    second = TrunkFactory(tenant=tenant, customer__tenant=tenant, tech_prefix="77", name="beta")
    errs = errors_of(TrunkNetwork(trunk=second, network="198.51.100.7"))
    assert "alpha" in errs["network"][0]
    assert first.customer.name in errs["network"][0]


def test_overlapping_networks_with_different_tech_prefixes_are_fine(tenant):
    first = TrunkFactory(tenant=tenant, customer__tenant=tenant, tech_prefix="77")
    TrunkNetworkFactory(trunk=first, network="198.51.100.0/24")
    second = TrunkFactory(tenant=tenant, customer__tenant=tenant, tech_prefix="78")
    TrunkNetwork(trunk=second, network="198.51.100.7").full_clean()


def test_changing_a_tech_prefix_into_an_overlap_is_refused(tenant):
    first = TrunkFactory(tenant=tenant, customer__tenant=tenant, tech_prefix="77", name="alpha")
    TrunkNetworkFactory(trunk=first, network="198.51.100.0/24")
    second = TrunkFactory(tenant=tenant, customer__tenant=tenant, tech_prefix="78")
    TrunkNetworkFactory(trunk=second, network="198.51.100.128/25")
    second.tech_prefix = "77"
    assert "alpha" in errors_of(second)["tech_prefix"][0]


def test_the_same_networks_in_another_tenant_do_not_clash(tenant, other_tenant):
    first = TrunkFactory(tenant=tenant, customer__tenant=tenant, tech_prefix="77")
    TrunkNetworkFactory(trunk=first, network="198.51.100.0/24")
    theirs = TrunkFactory(tenant=other_tenant, customer__tenant=other_tenant, tech_prefix="77")
    TrunkNetwork(trunk=theirs, network="198.51.100.0/24").full_clean()


def test_a_customer_with_trunks_cannot_be_deleted():
    trunk = TrunkFactory()
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        trunk.customer.delete()


@pytest.mark.parametrize("code", ["٣٧٤", "３７４", "37 4", "+374", "1234567890123456", "37a"])
def test_rate_codes_are_0_to_15_ascii_digits(code):
    rate = RateFactory.build(code=code, rate_plan=RatePlanFactory())
    assert "code" in errors_of(rate)


def test_rate_description_is_filled_from_the_dialplan_on_save():
    assert RateFactory(code="374", description="").description == "Armenia"
    assert RateFactory(code="", description="").description == "* (any)"


def test_rate_is_unique_per_plan_code_and_valid_since():
    rate = RateFactory()
    dup = RateFactory.build(rate_plan=rate.rate_plan, code=rate.code, valid_since=rate.valid_since)
    assert errors_of(dup)


def test_rate_amounts_cannot_be_negative():
    rate = RateFactory.build(
        rate_per_min=Decimal("-1"),
        connection_fee=Decimal("-1"),
        billing_block_sec=0,
        rate_plan=RatePlanFactory(),
    )
    assert {"rate_per_min", "connection_fee", "billing_block_sec"} <= set(errors_of(rate))


def test_editing_a_trunk_with_a_nul_byte_in_the_tech_prefix_is_a_field_error():
    net = TrunkNetworkFactory()
    net.trunk.tech_prefix = "1\x00"
    assert "tech_prefix" in errors_of(net.trunk)
