"""Routing rules in a real browser: create rule 374, add a client and a network target
without leaving the page, switch to Priority and see the priority field appear."""

import pytest

from routing.models import RoutingRule
from tests.e2e import selects
from tests.e2e.htmx import settled
from tests.factories import NetworkFactory, VMGateClientFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_operator_builds_rule_374_with_two_targets_and_switches_to_priority(
    page, login, shot, operator, tenant
):
    network = NetworkFactory(tenant=tenant, name="Yerevan site")
    VMGateClientFactory(network=network, name="gw-yerevan-1", node_id="n-1")
    client = VMGateClientFactory(network=network, name="gw-yerevan-2", node_id="n-2")
    login("op-a")

    page.goto("/routing/rules/")
    page.get_by_role(
        "link", name="+ Add routing rule"
    ).first.click()  # the header's (the empty list offers one too)
    page.wait_for_url("**/routing/rules/add/")  # loaded: htmx has bound the blur trigger
    settled(page)
    page.fill("input[name=code]", "374")
    page.locator("input[name=code]").blur()
    page.wait_for_function("document.querySelector('input[name=label]').value === 'Armenia'")
    shot(page, "routing-rule-add")
    page.get_by_role("button", name="Create").click()

    rule = RoutingRule.objects.get(tenant=tenant, code="374")
    assert rule.label == "Armenia"
    page.wait_for_url(f"**/routing/rules/{rule.pk}/targets/")
    assert page.get_by_test_id("no-traffic").first.is_visible()
    shot(page, "routing-targets-empty")

    # First target: a VMGateClient, found by typing in the search box.
    add = page.get_by_test_id("target-add-row")
    add.locator("select[name=new-kind]").select_option("client")
    settled(page)
    selects.search(page, "id_new-client", "yerevan-2")
    page.keyboard.press("ArrowDown")  # the first match is active; down stays on the only one
    page.keyboard.press("Enter")
    page.wait_for_function(
        f"document.querySelector('select[name=new-client]').value === '{client.pk}'"
    )
    add.get_by_role("button", name="+ Add target").click()
    page.wait_for_function("document.querySelectorAll('[data-testid=target-row]').length === 1")
    settled(page)
    assert page.get_by_test_id("no-traffic").count() == 0  # the banner was swapped

    # Second target: the network, picked from the first options.
    add = page.get_by_test_id("target-add-row")
    add.locator("select[name=new-kind]").select_option("network")
    settled(page)
    selects.pick(page, "id_new-network", network.name, text="")
    add.get_by_role("button", name="+ Add target").click()
    page.wait_for_function("document.querySelectorAll('[data-testid=target-row]').length === 2")
    assert sorted(t.kind for t in rule.targets.all()) == ["client", "network"]
    assert page.locator("input[name$=-weight][type=number]").count() == 3
    assert page.locator("input[name$=-priority][type=number]").count() == 0
    shot(page, "routing-targets-weight")

    # Switch to Priority: the priority field appears on the targets page.
    page.get_by_role("link", name="Edit rule").click()
    page.get_by_label("Priority", exact=False).check()
    page.get_by_role("button", name="Save").click()
    page.goto(f"/routing/rules/{rule.pk}/targets/")
    assert page.locator("input[name$=-priority][type=number]").count() == 3
    assert page.locator("input[name$=-weight][type=number]").count() == 0
    shot(page, "routing-targets-priority")

    page.goto("/routing/rules/")
    row = page.locator(f"tr[data-pk='{rule.pk}']")
    assert "1 client, 1 network" in row.inner_text()
    assert "Priority" in row.inner_text()
    shot(page, "routing-rules-list")

    page.goto(f"/routing/rules/{rule.pk}/")
    shot(page, "routing-rule-detail")


def test_operator_adds_a_client_with_three_sim_slots(page, login, shot, operator, tenant):
    from routing.models import VMGateClient

    network = NetworkFactory(tenant=tenant, name="Gyumri site")
    login("op-a")
    page.goto("/routing/clients/add/")
    settled(page)
    page.fill("input[name=name]", "gw-gyumri-1")
    page.fill("input[name=node_id]", "node-g1")
    selects.pick(page, "id_network", "Gyumri site", text="Gyumri")
    page.wait_for_function(f"document.querySelector('#id_network').value === '{network.pk}'")
    page.fill("input[name=sip_uri]", "sip:10.8.0.12:5060")
    page.get_by_role("button", name="+ Add SIM slot").click()
    page.fill("input[name=slots-2-position]", "3")
    page.fill("input[name=slots-2-label]", "Ucom")
    page.uncheck("input[name=slots-1-enabled]")
    shot(page, "routing-client-add")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url("**/routing/clients/*/")
    client = VMGateClient.objects.get(tenant=tenant, node_id="node-g1")
    assert list(client.slots.values_list("position", "enabled", "label")) == [
        (1, True, ""),
        (2, False, ""),
        (3, True, "Ucom"),
    ]
    page.goto("/routing/clients/")
    assert "2/3 enabled" in page.locator("table").inner_text()
    shot(page, "routing-clients-list")
    page.goto("/routing/networks/")
    shot(page, "routing-networks-list")
