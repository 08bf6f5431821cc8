"""Routing checks: the CRUD pages, run one / run all with pass/fail and what differed,
the management command's table and exit codes, and tenant isolation."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from dialpeers.models import Dialpeer
from routing.models import RoutingCheck
from tests.crud import CrudBattery
from tests.factories import (
    CustomerFactory,
    DialpeerFactory,
    RoutingCheckFactory,
    RoutingRuleFactory,
    RoutingTargetFactory,
    TrunkFactory,
    VMGateClientFactory,
)


def armenia(tenant):
    """A trunk (tech prefix 9) with 374 linked, and its rule."""
    trunk = TrunkFactory(customer=CustomerFactory(tenant=tenant), tech_prefix="9")
    rule = RoutingRuleFactory(tenant=tenant, code="374")
    RoutingTargetFactory(rule=rule, client=VMGateClientFactory(network__tenant=tenant))
    DialpeerFactory(trunk=trunk, rule=rule)
    return trunk, rule


class TestRoutingCheckCrud(CrudBattery):
    model = RoutingCheck
    url_prefix = "routing:routingcheck"
    has_detail = False
    test_detail_requires_login = None
    test_another_tenants_detail_is_404 = None
    test_detail_page_shows_the_row = None
    test_a_missing_id_is_404 = None  # uses the detail page; see test_a_missing_check_is_404

    def test_a_missing_check_is_404(self, op_client, tenant):
        for action in ("edit", "delete", "run"):
            url = reverse(f"routing:routingcheck_{action}", args=[999999999])
            assert op_client.get(url).status_code in (404, 405)
            assert op_client.post(url).status_code == 404

    def make(self, tenant, **kw):
        trunk = TrunkFactory(customer=CustomerFactory(tenant=tenant), tech_prefix="9")
        return RoutingCheckFactory(trunk=trunk, tenant=tenant, called_number="937412345", **kw)

    def add_data(self, tenant):
        trunk = TrunkFactory(customer=CustomerFactory(tenant=tenant), tech_prefix="9")
        return {
            "name": "Armenia via main",
            "trunk": trunk.pk,
            "called_number": "9374 123-45",
            "expected_outcome": "rejected",
            "expected_reason": "no_route",
        }

    def created(self, tenant):
        return RoutingCheck.objects.get(tenant=tenant, name="Armenia via main")

    def edit_data(self, obj):
        return {
            "name": "renamed",
            "source_ip": "203.0.113.5",
            "called_number": obj.called_number,
            "expected_outcome": "routed",
            "expected_reason": "",
        }

    def list_text(self, obj):
        return obj.name


@pytest.mark.django_db
def test_add_form_strips_typed_separators_and_needs_exactly_one_ingress(op_client, tenant):
    trunk, _ = armenia(tenant)
    url = reverse("routing:routingcheck_add")
    body = {"name": "x", "called_number": "9374 12", "expected_outcome": "routed"}
    assert op_client.post(url, body).status_code == 200  # neither ingress: form error
    body.update(trunk=trunk.pk, source_ip="203.0.113.1")
    assert op_client.post(url, body).status_code == 200  # both: form error
    assert not RoutingCheck.objects.exists()
    body.pop("source_ip")
    assert op_client.post(url, body).status_code == 302
    assert RoutingCheck.objects.get().called_number == "937412"


@pytest.mark.django_db
def test_run_one_records_pass_then_fail_with_what_differed(op_client, tenant):
    trunk, rule = armenia(tenant)
    check = RoutingCheckFactory(
        tenant=tenant,
        trunk=trunk,
        called_number="937412345",
        expected_outcome="routed",
        expected_reason="routed",
        expected_rule=rule,
    )
    run = reverse("routing:routingcheck_run", args=[check.pk])
    assert op_client.post(run).status_code == 302
    check.refresh_from_db()
    assert check.last_passed is True and check.last_run_at is not None
    Dialpeer.objects.filter(rule=rule).update(is_active=False)
    op_client.post(run)
    check.refresh_from_db()
    assert check.last_passed is False
    assert check.last_result["differences"] == [
        "outcome: expected routed, got rejected (no route)",
        "rule: expected 374 — Armenia, got no rule",
    ]
    page = op_client.get(reverse("routing:routingcheck_list")).content.decode()
    assert "fail" in page and "outcome: expected routed, got rejected (no route)" in page
    assert check.history.count() == 1  # a run is not an edit of the check


@pytest.mark.django_db
def test_run_all_runs_every_check_of_the_tenant_only(op_client, tenant, other_tenant):
    trunk, rule = armenia(tenant)
    good = RoutingCheckFactory(tenant=tenant, trunk=trunk, called_number="937412345")
    bad = RoutingCheckFactory(
        tenant=tenant, trunk=trunk, called_number="94412345", expected_outcome="routed"
    )
    foreign_trunk, _ = armenia(other_tenant)
    theirs = RoutingCheckFactory(tenant=other_tenant, trunk=foreign_trunk)
    response = op_client.post(reverse("routing:routingcheck_run_all"), follow=True)
    assert "Ran 2 check(s): 1 passed, 1 failed." in response.content.decode()
    for check in (good, bad, theirs):
        check.refresh_from_db()
    assert (good.last_passed, bad.last_passed, theirs.last_passed) == (True, False, None)


@pytest.mark.django_db
def test_running_another_tenants_check_is_404(op_client, other_tenant):
    trunk, _ = armenia(other_tenant)
    theirs = RoutingCheckFactory(tenant=other_tenant, trunk=trunk)
    assert op_client.post(reverse("routing:routingcheck_run", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.last_run_at is None


@pytest.mark.django_db
def test_viewers_cannot_run_checks(viewer_client, tenant):
    trunk, _ = armenia(tenant)
    check = RoutingCheckFactory(tenant=tenant, trunk=trunk)
    assert (
        viewer_client.post(reverse("routing:routingcheck_run", args=[check.pk])).status_code == 403
    )
    assert viewer_client.post(reverse("routing:routingcheck_run_all")).status_code == 403


@pytest.mark.django_db
def test_command_prints_a_table_and_exits_0_when_all_pass(tenant):
    trunk, rule = armenia(tenant)
    RoutingCheckFactory(
        tenant=tenant, name="AM", trunk=trunk, called_number="937412345", expected_rule=rule
    )
    RoutingCheckFactory(
        tenant=tenant,
        name="UK",
        trunk=trunk,
        called_number="94412345",
        expected_outcome="rejected",
        expected_reason="no_route",
    )
    out = StringIO()
    call_command("run_routing_checks", "--tenant", tenant.slug, stdout=out)
    text = out.getvalue()
    assert re.search(r"^PASS +tenant-a +AM +937412345", text, re.M)
    assert re.search(r"^PASS +tenant-a +UK +94412345 +rejected · no_route", text, re.M)
    assert "2 check(s), 0 failed." in text


@pytest.mark.django_db
def test_command_exits_1_on_a_failure_and_names_what_differed(tenant, other_tenant):
    trunk, rule = armenia(tenant)
    RoutingCheckFactory(
        tenant=tenant, name="AM", trunk=trunk, called_number="937412345", expected_rule=rule
    )
    foreign, _ = armenia(other_tenant)
    RoutingCheckFactory(tenant=other_tenant, name="broken", trunk=foreign, called_number="9441")
    out = StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("run_routing_checks", stdout=out)
    assert exc.value.code == 1
    assert (
        "FAIL tenant-b/broken: outcome: expected routed, got rejected (no route)" in out.getvalue()
    )
    # one tenant only: the other tenant's failure does not count
    out = StringIO()
    call_command("run_routing_checks", "--tenant", "tenant-a", stdout=out)
    assert "broken" not in out.getvalue() and "1 check(s), 0 failed." in out.getvalue()


@pytest.mark.django_db
def test_command_with_an_unknown_tenant_exits_2():
    with pytest.raises(CommandError) as exc:
        call_command("run_routing_checks", "--tenant", "nope", stdout=StringIO())
    assert exc.value.returncode == 2


@pytest.mark.django_db
def test_list_filters_by_result_and_search(op_client, tenant):
    trunk, _ = armenia(tenant)
    RoutingCheckFactory(tenant=tenant, trunk=trunk, name="good one", last_passed=True)
    RoutingCheckFactory(tenant=tenant, trunk=trunk, name="bad one", last_passed=False)
    url = reverse("routing:routingcheck_list")
    body = op_client.get(url, {"last_passed": "false"}).content.decode()
    assert "bad one" in body and "good one" not in body
    body = op_client.get(url, {"q": "good"}).content.decode()
    assert "good one" in body and "bad one" not in body
    assert 'name="trunk"' not in op_client.get(url).content.decode()
