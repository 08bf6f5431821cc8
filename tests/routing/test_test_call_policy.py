"""Routing policy (SPEC §9) on the test-call page and in routing checks: the calling
number field, the call time that opens and shuts schedules ("what happens Saturday
23:00?"), the new steps 2d and 5b, each target's dialled number, the list that refused."""

from datetime import UTC, datetime, time

import pytest
from django.urls import reverse

from customers.models import TrunkNumberList
from routing.checks.running import decide as run_check
from routing.models import RoutingCheck
from tests.factories import (
    NumberListEntryFactory,
    NumberListFactory,
    RoutingCheckFactory,
    ScheduleFactory,
    ScheduleWindowFactory,
    TranslationRuleFactory,
    TranslationSetFactory,
)
from tests.routing.test_test_call_page import ask, manual  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db
URL = reverse("routing:test_call")


@pytest.fixture
def policy(tenant, manual):  # noqa: F811
    """manual's trunk translates national numbers (0…) to 374…, denies callers 37410…;
    rule 374 only runs on weekdays 09:00–18:00 in Yerevan."""
    tset = TranslationSetFactory(tenant=tenant, name="Armenia national")
    TranslationRuleFactory(translation_set=tset, position=1, match="0([0-9]+)", replace=r"374\1")
    callers = NumberListFactory(tenant=tenant, name="Barred callers", applies_to="calling")
    NumberListEntryFactory(number_list=callers, value="37410", match="prefix")
    trunk = manual["trunk"]
    trunk.ingress_translation = tset
    trunk.save()
    TrunkNumberList.objects.create(trunk=trunk, number_list=callers)
    office = ScheduleFactory(tenant=tenant, name="Office", timezone="Asia/Yerevan")
    ScheduleWindowFactory(schedule=office, weekdays=[1, 2, 3, 4, 5], start=time(9), end=time(18))
    rule = manual["rules"]["374"]
    rule.schedule = office
    rule.save()
    return manual


def test_the_page_shows_the_translation_and_each_targets_number(op_client, policy):
    page = ask(op_client, policy, "9091234567", at="2026-12-07 08:00").content.decode()
    assert 'data-testid="rewrites"' in page
    assert "Armenia national" in page and "091234567" in page and "37491234567" in page
    assert "2d. Ingress translation" in page and "5b. Number lists" in page
    assert 'data-testid="target-number">37491234567<' in page


def test_the_call_time_opens_and_shuts_a_rules_schedule(op_client, policy):
    weekday = ask(op_client, policy, "9091234567", at="2026-12-07 08:00").content.decode()
    assert "Routed → 302" in weekday
    saturday_night = ask(op_client, policy, "9091234567", at="2026-12-05 19:00").content.decode()
    assert "Rejected: no route → 404" in saturday_night
    assert "outside its schedule" in saturday_night


def test_a_barred_calling_number_is_refused_naming_the_list(op_client, policy):
    page = ask(op_client, policy, "9091234567", calling_number="+374 10 555").content.decode()
    assert "Rejected: number blocked → 403" in page
    assert 'data-testid="blocked-by"' in page and "Barred callers" in page
    assert 'data-testid="calling-number">3741055' in page


def test_a_malformed_calling_number_is_a_field_error(op_client, policy):
    page = ask(op_client, policy, "9091234567", calling_number="anonymous").content.decode()
    assert "Enter an optional + and 1–24 digits 0-9." in page
    assert 'data-testid="outcome"' not in page


def test_saving_the_test_call_keeps_the_calling_number_and_time(op_client, policy):
    params = {
        "customer": policy["customer"].pk,
        "trunk": policy["trunk"].pk,
        "called_number": "9091234567",
        "calling_number": "37410555",
        "at": "2026-12-07 08:00",
        "name": "barred caller",
    }
    op_client.post(reverse("routing:routingcheck_save"), params)
    check = RoutingCheck.objects.get(name="barred caller")
    assert check.calling_number == "37410555"
    assert check.at == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    assert (check.expected_outcome, check.expected_reason) == ("rejected", "number_blocked")
    assert check.last_passed is True


def test_a_check_with_a_calling_number_and_a_time_decides_with_both(tenant, policy):
    check = RoutingCheckFactory(
        trunk=policy["trunk"],
        called_number="9091234567",
        calling_number="37499555",
        at=datetime(2026, 12, 5, 19, 0, tzinfo=UTC),  # Saturday 23:00 in Yerevan
        expected_outcome="rejected",
        expected_reason="no_route",
    )
    d = run_check(check)
    assert (d.reason, d.calling_number) == ("no_route", "37499555")
    check.at = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    assert run_check(check).routed
    check.calling_number = "37410555"
    assert run_check(check).reason == "number_blocked"


def test_the_check_form_refuses_a_malformed_calling_number(op_client, policy):
    response = op_client.post(
        reverse("routing:routingcheck_add"),
        {
            "name": "bad caller",
            "trunk": policy["trunk"].pk,
            "called_number": "9374",
            "calling_number": "abc",
            "expected_outcome": "routed",
        },
    )
    assert response.status_code == 200
    assert "Use an optional + and 1–24 digits 0-9." in response.content.decode()
    assert not RoutingCheck.objects.filter(name="bad caller").exists()
