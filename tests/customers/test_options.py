"""The options endpoints of the searchable selects (customers, trunks, rules): tenant-scoped,
bounded, never 500."""

import re

import pytest
from django.urls import reverse, reverse_lazy

from tests.factories import CustomerFactory, RoutingRuleFactory, TrunkFactory

pytestmark = pytest.mark.django_db

TRUNKS = reverse_lazy("customers:trunk_options")
CUSTOMERS = reverse_lazy("customers:customer_options")
RULES = reverse_lazy("routing:rule_options")
GARBAGE = ["", "abc", "\x00", "1\x00", "-1", "0", "99999999999999999999999", "1.5", "١"]


def option_values(response):
    assert response.status_code == 200
    return re.findall(r'<option value="([^"]*)"', response.content.decode())


def option_labels(response):
    return re.findall(r"<option [^>]*>([^<]*)</option>", response.content.decode())


# trunk_options: customer → that customer's trunks ------------------------------------------
def test_trunk_list_only_shows_the_chosen_customers_trunks(op_client, tenant):
    acme = CustomerFactory(tenant=tenant, name="Acme")
    t1 = TrunkFactory(customer=acme, name="acme-b", tech_prefix="")
    t2 = TrunkFactory(customer=acme, name="acme-a", tech_prefix="77")
    other = TrunkFactory(customer__tenant=tenant)
    response = op_client.get(TRUNKS, {"by_customer": "1", "customer": acme.pk})
    values = option_values(response)
    assert values == ["", str(t2.pk), str(t1.pk)]
    assert str(other.pk) not in values
    assert option_labels(response)[1:] == ["acme-a (prefix 77)", "acme-b"]


def test_trunk_options_mark_the_current_trunk_selected(op_client, tenant):
    trunk = TrunkFactory(customer__tenant=tenant)
    response = op_client.get(
        TRUNKS, {"by_customer": "1", "customer": trunk.customer_id, "trunk": trunk.pk}
    )
    assert f'<option value="{trunk.pk}" selected>' in response.content.decode()


def test_another_tenants_customer_gives_only_the_empty_option(op_client, tenant, other_tenant):
    theirs = TrunkFactory(customer__tenant=other_tenant)
    response = op_client.get(TRUNKS, {"by_customer": "1", "customer": theirs.customer_id})
    assert option_values(response) == [""]
    assert theirs.name not in response.content.decode()


@pytest.mark.parametrize("garbage", GARBAGE)
def test_garbage_customer_ids_give_only_the_empty_option(op_client, tenant, garbage):
    TrunkFactory(customer__tenant=tenant)
    response = op_client.get(TRUNKS, {"by_customer": "1", "customer": garbage})
    assert option_values(response) == [""]


def test_a_missing_customer_parameter_gives_only_the_empty_option(op_client, tenant):
    TrunkFactory(customer__tenant=tenant)
    assert option_values(op_client.get(TRUNKS, {"by_customer": "1"})) == [""]


def test_a_missing_customer_id_gives_only_the_empty_option(op_client, tenant):
    assert option_values(op_client.get(TRUNKS, {"by_customer": "1", "customer": 999999999})) == [""]


def test_option_endpoints_need_a_login(client, tenant):
    for url in (TRUNKS, CUSTOMERS, RULES, reverse("routing:target_options")):
        response = client.get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_viewers_may_read_option_endpoints(viewer_client, tenant):
    trunk = TrunkFactory(customer__tenant=tenant)
    response = viewer_client.get(TRUNKS, {"by_customer": "1", "customer": trunk.customer_id})
    assert str(trunk.pk) in option_values(response)


# rule_options: rules usable on the trunk, searched as you type ---------------------------
def test_rule_options_offer_all_trunks_rules_and_rules_scoped_to_the_chosen_trunk(
    op_client, tenant
):
    trunk = TrunkFactory(customer__tenant=tenant)
    elsewhere = TrunkFactory(customer=trunk.customer)
    anywhere = RoutingRuleFactory(tenant=tenant, code="374")
    scoped_here = RoutingRuleFactory(tenant=tenant, code="39", trunk=trunk)
    scoped_elsewhere = RoutingRuleFactory(tenant=tenant, code="44", trunk=elsewhere)
    values = option_values(op_client.get(RULES, {"trunk": trunk.pk}))
    assert values == ["", str(anywhere.pk), str(scoped_here.pk)]  # ordered by code: 374, 39
    assert str(scoped_elsewhere.pk) not in values


def test_without_a_trunk_only_all_trunks_rules_are_offered(op_client, tenant):
    trunk = TrunkFactory(customer__tenant=tenant)
    anywhere = RoutingRuleFactory(tenant=tenant, code="374")
    RoutingRuleFactory(tenant=tenant, code="39", trunk=trunk)
    for params in ({}, {"trunk": ""}, {"trunk": "abc"}, {"trunk": "\x00"}):
        values = option_values(op_client.get(RULES, params))
        assert values == ["", str(anywhere.pk)]


def test_another_tenants_trunk_offers_only_all_trunks_rules(op_client, tenant, other_tenant):
    theirs = TrunkFactory(customer__tenant=other_tenant)
    RoutingRuleFactory(tenant=other_tenant, code="39", trunk=theirs)
    mine = RoutingRuleFactory(tenant=tenant, code="374")
    values = option_values(op_client.get(RULES, {"trunk": theirs.pk}))
    assert values == ["", str(mine.pk)]


def test_rules_are_shown_as_prefix_and_label(op_client, tenant):
    RoutingRuleFactory(tenant=tenant, code="374")
    RoutingRuleFactory(tenant=tenant, code="")
    labels = option_labels(op_client.get(RULES))
    assert labels == ["---------", "* (any)", "374 — Armenia"]


def test_typing_digits_searches_codes_by_prefix(op_client, tenant):
    am = RoutingRuleFactory(tenant=tenant, code="374")
    am_mobile = RoutingRuleFactory(tenant=tenant, code="37491")
    RoutingRuleFactory(tenant=tenant, code="39")
    values = option_values(op_client.get(RULES, {"q": "374"}))
    assert values == [str(am.pk), str(am_mobile.pk)]  # the best match first, no empty option


def test_typing_words_searches_labels(op_client, tenant):
    italy = RoutingRuleFactory(tenant=tenant, code="39")
    RoutingRuleFactory(tenant=tenant, code="374")
    values = option_values(op_client.get(RULES, {"q": "ital"}))
    assert values == [str(italy.pk)]


def test_a_search_without_matches_says_so(op_client, tenant):
    RoutingRuleFactory(tenant=tenant, code="374")
    response = op_client.get(RULES, {"q": "zzz"})
    assert option_values(response) == [""]
    assert option_labels(response) == ["No match"]


@pytest.mark.parametrize("q", ["\x00", "3\x00", "'; drop table x; --", "%", "_", "٣٧٤", "x" * 5000])
def test_odd_search_text_never_fails(op_client, tenant, q):
    RoutingRuleFactory(tenant=tenant, code="374")
    for url in (RULES, CUSTOMERS, TRUNKS):
        assert op_client.get(url, {"q": q}).status_code == 200


def test_rule_options_return_at_most_fifty_and_keep_the_selected_rule(op_client, tenant):
    rules = [RoutingRuleFactory(tenant=tenant, code=f"{100 + i}") for i in range(60)]
    last = rules[-1]
    values = option_values(op_client.get(RULES, {"rule": last.pk}))
    assert len(values) == 1 + 50
    assert values[1] == str(last.pk)


def test_rule_options_never_show_another_tenants_rules(op_client, tenant, other_tenant):
    theirs = RoutingRuleFactory(tenant=other_tenant, code="374")
    for params in ({}, {"all": "1"}, {"q": "374"}, {"rule": theirs.pk}, {"all": "1", "q": "37"}):
        values = option_values(op_client.get(RULES, params))
        assert str(theirs.pk) not in values


def test_all_rules_are_offered_to_list_filters(op_client, tenant):
    trunk = TrunkFactory(customer__tenant=tenant)
    scoped_rule = RoutingRuleFactory(tenant=tenant, code="39", trunk=trunk)
    values = option_values(op_client.get(RULES, {"all": "1"}))
    assert str(scoped_rule.pk) in values


# customer_options and trunk_options searched ---------------------------------------------------------
def test_customer_options_search_names_and_stay_in_the_tenant(op_client, tenant, other_tenant):
    acme = CustomerFactory(tenant=tenant, name="Acme Telecom")
    CustomerFactory(tenant=tenant, name="Beta")
    theirs = CustomerFactory(tenant=other_tenant, name="Acme Other")
    values = option_values(op_client.get(CUSTOMERS, {"q": "acme"}))
    assert values == [str(acme.pk)]
    values = option_values(op_client.get(CUSTOMERS, {"customer": theirs.pk}))
    assert str(theirs.pk) not in values


def test_customer_options_with_trunks_only_offer_customers_that_have_one(op_client, tenant):
    with_trunk = TrunkFactory(customer__tenant=tenant).customer
    CustomerFactory(tenant=tenant)
    values = option_values(op_client.get(CUSTOMERS, {"with_trunks": "1"}))
    assert values == ["", str(with_trunk.pk)]


def test_trunk_search_finds_trunks_by_trunk_or_customer_name(op_client, tenant, other_tenant):
    trunk = TrunkFactory(customer__tenant=tenant, customer__name="Acme", name="main")
    TrunkFactory(customer__tenant=tenant, customer__name="Beta", name="other")
    theirs = TrunkFactory(customer__tenant=other_tenant, customer__name="Acme", name="main")
    for q in ("acme", "mai"):
        response = op_client.get(TRUNKS, {"q": q})
        assert option_values(response) == [str(trunk.pk)]
        assert option_labels(response) == ["Acme / main"]
    assert str(theirs.pk) not in option_values(op_client.get(TRUNKS))


@pytest.mark.parametrize(
    "name", ["customers:trunk_options", "customers:customer_options", "routing:rule_options"]
)
def test_option_endpoints_use_a_fixed_number_of_queries(
    op_client, tenant, name, django_assert_max_num_queries
):
    trunk = TrunkFactory(customer__tenant=tenant)
    for i in range(30):
        RoutingRuleFactory(tenant=tenant, code=f"{200 + i}")
        TrunkFactory(customer=trunk.customer)
    # session + user + membership, then at most two queries of our own
    with django_assert_max_num_queries(5):
        op_client.get(
            reverse(name),
            {"customer": trunk.customer_id, "trunk": trunk.pk, "rule": "1"},
        )


def test_a_list_filters_trunk_options_narrow_to_a_chosen_customer_only(
    op_client, tenant, other_tenant
):
    acme = TrunkFactory(customer__tenant=tenant, customer__name="Acme", name="main")
    beta = TrunkFactory(customer__tenant=tenant, customer__name="Beta", name="other")
    theirs = TrunkFactory(customer__tenant=other_tenant)
    # No customer chosen in the filter: every trunk of the tenant ("Any trunk" first).
    response = op_client.get(TRUNKS, {"customer": "", "empty": "any"})
    assert option_values(response) == ["", str(acme.pk), str(beta.pk)]
    assert option_labels(response)[0] == "Any trunk"
    values = option_values(op_client.get(TRUNKS, {"customer": acme.customer_id}))
    assert values == ["", str(acme.pk)]
    # Another tenant's customer reads like a missing one: no trunk at all.
    for customer in (theirs.customer_id, 999999999, "abc"):
        assert option_values(op_client.get(TRUNKS, {"customer": customer})) == [""]
