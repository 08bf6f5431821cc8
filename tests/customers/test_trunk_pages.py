"""Trunk pages: Authorized IPs edited in the trunk form, overlaps, delete refused with reason."""

import pytest
from django.urls import reverse

from customers.models import Trunk, TrunkNetwork
from tests.customers.test_crud import networks_data
from tests.factories import (
    CustomerFactory,
    DialpeerFactory,
    RatePlanFactory,
    RoutingRuleFactory,
    TrunkFactory,
    TrunkNetworkFactory,
)

pytestmark = pytest.mark.django_db

ADD = "customers:trunk_add"


def trunk_data(customer, *networks, **over):
    data = {
        "customer": customer.pk,
        "name": "sbc-1",
        "tech_prefix": "77",
        "max_concurrent_calls": "10",
        "codecs": ["PCMA"],
        "status": "active",
        **networks_data(*networks),
    }
    data.update(over)
    return data


def row_errors(response):
    return [f.errors.get("network", []) for f in response.context["form"].networks.forms]


def test_a_trunk_is_created_with_two_authorized_ips_stored_canonical(op_client, tenant):
    customer = CustomerFactory(tenant=tenant)
    response = op_client.post(
        reverse(ADD), trunk_data(customer, "203.0.113.10", "2001:DB8:10::/48")
    )
    assert response.status_code == 302
    trunk = Trunk.objects.get(name="sbc-1")
    assert sorted(trunk.networks.values_list("network", flat=True)) == [
        "2001:db8:10::/48",
        "203.0.113.10/32",
    ]
    assert response["Location"] == trunk.get_absolute_url()


@pytest.mark.parametrize(
    "bad, message",
    [
        ("198.51.100.7/24", "did you mean 198.51.100.0/24?"),
        ("0.0.0.0/0", "would authorize every address"),
        ("::/0", "would authorize every address"),
        ("fe80::1%eth0", "Zone ids"),
        ("10.0.0.300", "is not an IPv4 or IPv6 host"),
        ("abc", "is not an IPv4 or IPv6 host"),
        ("10.0.0.0/33", "is not an IPv4 or IPv6 host"),
        ("1\x00", "Null characters are not allowed"),
    ],
)
def test_each_bad_ip_is_an_error_on_its_own_row_and_nothing_is_saved(
    op_client, tenant, bad, message
):
    customer = CustomerFactory(tenant=tenant)
    response = op_client.post(reverse(ADD), trunk_data(customer, "203.0.113.10", bad))
    assert response.status_code == 200
    errors = row_errors(response)
    assert errors[0] == []
    assert message in errors[1][0]
    assert not Trunk.objects.filter(name="sbc-1").exists()
    # The page shows the typed value again, with its error beside it.
    assert message.split("?")[0].replace("'", "&#x27;")[:20] in response.content.decode()


def test_the_same_ip_twice_in_the_form_is_a_row_error(op_client, tenant):
    customer = CustomerFactory(tenant=tenant)
    response = op_client.post(reverse(ADD), trunk_data(customer, "203.0.113.10", "203.0.113.10/32"))
    assert "listed twice" in row_errors(response)[1][0]


def test_a_trunk_needs_at_least_one_authorized_ip(op_client, tenant):
    customer = CustomerFactory(tenant=tenant)
    response = op_client.post(reverse(ADD), trunk_data(customer, ""))
    assert response.status_code == 200
    assert "at least one" in response.context["form"].networks.non_form_errors()[0]


def test_an_overlap_with_the_same_tech_prefix_names_the_other_trunk_and_customer(op_client, tenant):
    other = TrunkFactory(
        customer__tenant=tenant, customer__name="Globex", name="alpha", tech_prefix="77"
    )
    TrunkNetworkFactory(trunk=other, network="198.51.100.0/24")
    customer = CustomerFactory(tenant=tenant)
    response = op_client.post(reverse(ADD), trunk_data(customer, "203.0.113.10", "198.51.100.7"))
    error = row_errors(response)[1][0]
    assert "alpha" in error and "Globex" in error
    # With another tech prefix the same IPs are fine.
    response = op_client.post(
        reverse(ADD), trunk_data(customer, "203.0.113.10", "198.51.100.7", tech_prefix="78")
    )
    assert response.status_code == 302


def test_another_tenants_overlapping_trunk_does_not_clash(op_client, tenant, other_tenant):
    theirs = TrunkFactory(customer__tenant=other_tenant, tech_prefix="77")
    TrunkNetworkFactory(trunk=theirs, network="198.51.100.0/24")
    customer = CustomerFactory(tenant=tenant)
    assert op_client.post(reverse(ADD), trunk_data(customer, "198.51.100.7")).status_code == 302


def edit_data(trunk, rows, **over):
    """rows: [(id or None, network, delete?)]"""
    data = {
        "customer": trunk.customer_id,
        "name": trunk.name,
        "tech_prefix": trunk.tech_prefix,
        "max_concurrent_calls": "10",
        "codecs": ["PCMA"],
        "status": "active",
        "networks-TOTAL_FORMS": str(len(rows)),
        "networks-INITIAL_FORMS": str(sum(1 for r in rows if r[0])),
        "networks-MIN_NUM_FORMS": "0",
        "networks-MAX_NUM_FORMS": "1000",
    }
    for i, (pk, net, delete) in enumerate(rows):
        data[f"networks-{i}-network"] = net
        if pk:
            data[f"networks-{i}-id"] = str(pk)
            data[f"networks-{i}-trunk"] = str(trunk.pk)
        if delete:
            data[f"networks-{i}-DELETE"] = "on"
    data.update(over)
    return data


def test_editing_adds_and_removes_ip_rows(op_client, tenant):
    trunk = TrunkFactory(customer__tenant=tenant, tech_prefix="77")
    a = TrunkNetworkFactory(trunk=trunk, network="203.0.113.10/32")
    b = TrunkNetworkFactory(trunk=trunk, network="203.0.113.11/32")
    response = op_client.post(
        reverse("customers:trunk_edit", args=[trunk.pk]),
        edit_data(
            trunk,
            [(a.pk, a.network, False), (b.pk, b.network, True), (None, "192.0.2.0/24", False)],
        ),
    )
    assert response.status_code == 302
    assert sorted(trunk.networks.values_list("network", flat=True)) == [
        "192.0.2.0/24",
        "203.0.113.10/32",
    ]


def test_the_tech_prefix_overlap_check_sees_the_networks_being_submitted(op_client, tenant):
    """Changing the prefix into a clash while removing the clashing network is fine;
    keeping it is refused on its row; adding a clashing row with the new prefix too."""
    alpha = TrunkFactory(customer__tenant=tenant, name="alpha", tech_prefix="77")
    TrunkNetworkFactory(trunk=alpha, network="198.51.100.0/24")
    trunk = TrunkFactory(customer__tenant=tenant, tech_prefix="78")
    clash = TrunkNetworkFactory(trunk=trunk, network="198.51.100.128/25")
    keep = TrunkNetworkFactory(trunk=trunk, network="203.0.113.10/32")
    url = reverse("customers:trunk_edit", args=[trunk.pk])

    response = op_client.post(
        url,
        edit_data(
            trunk,
            [(clash.pk, clash.network, False), (keep.pk, keep.network, False)],
            tech_prefix="77",
        ),
    )
    assert response.status_code == 200
    assert "alpha" in row_errors(response)[0][0]
    trunk.refresh_from_db()
    assert trunk.tech_prefix == "78"

    response = op_client.post(
        url,
        edit_data(
            trunk,
            [
                (clash.pk, clash.network, True),
                (keep.pk, keep.network, False),
                (None, "198.51.100.9", False),
            ],
            tech_prefix="77",
        ),
    )
    assert "alpha" in row_errors(response)[2][0]

    response = op_client.post(
        url,
        edit_data(
            trunk,
            [(clash.pk, clash.network, True), (keep.pk, keep.network, False)],
            tech_prefix="77",
        ),
    )
    assert response.status_code == 302
    trunk.refresh_from_db()
    assert trunk.tech_prefix == "77"
    assert list(trunk.networks.values_list("network", flat=True)) == ["203.0.113.10/32"]


def test_a_removed_network_can_be_re_added_in_the_same_submission(op_client, tenant):
    trunk = TrunkFactory(customer__tenant=tenant)
    net = TrunkNetworkFactory(trunk=trunk, network="203.0.113.10/32")
    response = op_client.post(
        reverse("customers:trunk_edit", args=[trunk.pk]),
        edit_data(trunk, [(net.pk, net.network, True), (None, "203.0.113.10", False)]),
    )
    assert response.status_code == 302
    assert list(trunk.networks.values_list("network", flat=True)) == ["203.0.113.10/32"]


def test_forged_network_row_of_another_trunk_is_not_touched(op_client, tenant, other_tenant):
    trunk = TrunkFactory(customer__tenant=tenant)
    mine = TrunkNetworkFactory(trunk=trunk, network="203.0.113.10/32")
    theirs = TrunkNetworkFactory(trunk__customer__tenant=other_tenant, network="192.0.2.1/32")
    response = op_client.post(
        reverse("customers:trunk_edit", args=[trunk.pk]),
        edit_data(trunk, [(mine.pk, mine.network, False), (theirs.pk, "192.0.2.9", True)]),
    )
    assert TrunkNetwork.objects.filter(pk=theirs.pk, network="192.0.2.1/32").exists()
    response = op_client.post(
        reverse("customers:trunk_edit", args=[trunk.pk]),
        edit_data(trunk, [(mine.pk, mine.network, False), (theirs.pk, "192.0.2.9", False)]),
    )
    assert response.status_code == 200
    assert TrunkNetwork.objects.filter(pk=theirs.pk, network="192.0.2.1/32").exists()
    assert not TrunkNetwork.objects.filter(network="192.0.2.9/32").exists()


def test_rate_plan_choices_are_this_tenants_only(op_client, tenant, other_tenant):
    RatePlanFactory(tenant=tenant, name="Our plan")
    RatePlanFactory(tenant=other_tenant, name="Their plan")
    body = op_client.get(reverse(ADD)).content.decode()
    assert "Our plan" in body and "Their plan" not in body


def test_the_add_form_renders_only_the_chosen_customer_not_all(op_client, tenant):
    for n in range(30):
        CustomerFactory(tenant=tenant, name=f"Carrier {n:02d}")
    chosen = CustomerFactory(tenant=tenant, name="Chosen One")
    body = op_client.get(reverse(ADD), {"customer": chosen.pk}).content.decode()
    assert "Chosen One" in body and "Carrier 07" not in body


def test_delete_is_refused_with_the_reason_while_dialpeers_or_scoped_rules_use_it(
    op_client, tenant
):
    trunk = TrunkFactory(customer__tenant=tenant)
    DialpeerFactory(trunk=trunk)
    RoutingRuleFactory(tenant=tenant, trunk=trunk, code="375")
    list_body = op_client.get(reverse("customers:trunk_list")).content.decode()
    assert "Used by 1 dialpeer and 1 routing rule scoped to it." in list_body
    url = reverse("customers:trunk_delete", args=[trunk.pk])
    assert "is used by 1 dialpeer" in op_client.get(url).content.decode()
    op_client.post(url)
    assert Trunk.objects.filter(pk=trunk.pk).exists()


def test_a_trunk_with_dialpeers_cannot_move_to_another_customer(op_client, tenant):
    trunk = TrunkFactory(customer__tenant=tenant)
    net = TrunkNetworkFactory(trunk=trunk)
    DialpeerFactory(trunk=trunk)
    other = CustomerFactory(tenant=tenant)
    response = op_client.post(
        reverse("customers:trunk_edit", args=[trunk.pk]),
        edit_data(trunk, [(net.pk, net.network, False)], customer=other.pk),
    )
    assert "remove them before" in response.context["form"].errors["customer"][0]


def test_trunk_detail_shows_networks_dialpeers_and_history(op_client, tenant):
    trunk = TrunkFactory(customer__tenant=tenant, name="sbc-east")
    TrunkNetworkFactory(trunk=trunk, network="203.0.113.10/32")
    DialpeerFactory(trunk=trunk, name="Armenia via east")
    body = op_client.get(trunk.get_absolute_url()).content.decode()
    assert "203.0.113.10/32" in body
    assert "Armenia via east" in body
    assert 'data-testid="history"' in body


def test_trunk_list_filters_by_customer_status_rate_plan_and_search(op_client, tenant):
    plan = RatePlanFactory(tenant=tenant)
    a = TrunkFactory(customer__tenant=tenant, name="alpha-sbc", rate_plan=plan)
    b = TrunkFactory(customer__tenant=tenant, name="beta-sbc", status="disabled")
    TrunkNetworkFactory(trunk=b, network="192.0.2.0/24")
    url = reverse("customers:trunk_list")

    def names(**params):
        body = op_client.get(url, params).content.decode()
        return {t.name for t in (a, b) if t.name in body}

    assert names(customer=a.customer_id) == {"alpha-sbc"}
    assert names(status="disabled") == {"beta-sbc"}
    assert names(rate_plan=plan.pk) == {"alpha-sbc"}
    assert names(q="192.0.2") == {"beta-sbc"}
    assert names(sort="-ip_count") == {"alpha-sbc", "beta-sbc"}


def test_the_add_form_starts_with_the_default_codecs_checked(op_client, tenant):
    body = op_client.get(reverse(ADD)).content.decode()
    assert 'id="id_codecs_0" checked' in body and 'id="id_codecs_1" checked' in body
    assert 'id="id_codecs_2" checked' not in body


def test_trunk_history_shows_authorized_ips_added_and_removed_by_whom(op_client, tenant):
    trunk = TrunkFactory(customer__tenant=tenant, tech_prefix="77")
    old = TrunkNetworkFactory(trunk=trunk, network="203.0.113.10/32")
    op_client.post(
        reverse("customers:trunk_edit", args=[trunk.pk]),
        edit_data(trunk, [(old.pk, old.network, True), (None, "192.0.2.0/24", False)]),
    )
    rows = op_client.get(trunk.get_absolute_url()).context["history_rows"]
    changes = [(r["who"], c) for r in rows for c in r["changes"] if c[0] == "authorized IP"]
    assert ("op-a", ("authorized IP", "—", "192.0.2.0/24")) in changes
    assert ("op-a", ("authorized IP", "203.0.113.10/32", "—")) in changes
    assert [r["when"] for r in rows] == sorted((r["when"] for r in rows), reverse=True)
