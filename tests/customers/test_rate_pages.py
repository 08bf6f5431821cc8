"""Rate plans and their destinations: derived valid-to and status, filters, dialplan fill."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.models import Rate, RatePlan
from tests.factories import RateFactory, RatePlanFactory, TrunkFactory

pytestmark = pytest.mark.django_db


def at(year, month=1, day=1):
    return datetime(year, month, day, tzinfo=UTC)


@pytest.fixture
def plan(tenant):
    plan = RatePlanFactory(tenant=tenant, name="Retail")
    now = timezone.now()
    RateFactory(rate_plan=plan, code="374", valid_since=at(2024), rate_per_min="0.30")
    RateFactory(rate_plan=plan, code="374", valid_since=at(2025), rate_per_min="0.20")
    RateFactory(
        rate_plan=plan, code="374", valid_since=now + timedelta(days=30), rate_per_min="0.10"
    )
    RateFactory(rate_plan=plan, code="3749", valid_since=at(2025, 6), rate_per_min="0.50")
    RateFactory(rate_plan=plan, code="", valid_since=at(2020), rate_per_min="1")
    return plan


def test_valid_to_is_the_next_rates_valid_since_and_status_is_derived(plan):
    now = timezone.now()
    rows = {
        (r.code, r.valid_since.year): r
        for r in Rate.objects.filter(rate_plan=plan).with_validity(now)
    }
    assert rows[("374", 2024)].valid_to == at(2025)
    assert rows[("374", 2024)].status == "superseded"
    assert rows[("374", 2025)].valid_to.date() == (now + timedelta(days=30)).date()
    assert rows[("374", 2025)].status == "current"
    future = [r for (code, _), r in rows.items() if code == "374" and r.valid_since > now][0]
    assert future.valid_to is None and future.status == "future"
    assert rows[("3749", 2025)].valid_to is None and rows[("3749", 2025)].status == "current"
    assert rows[("", 2020)].status == "current"


def test_rates_of_another_plan_do_not_cut_valid_to(tenant, plan):
    other = RatePlanFactory(tenant=tenant)
    RateFactory(rate_plan=other, code="374", valid_since=at(2024, 6))
    qs = Rate.objects.filter(rate_plan=plan, code="374").with_validity()
    assert [r.valid_to for r in qs][0] == at(2025)
    # The subquery form gives the same answer for one row fetched by itself.
    first = Rate.objects.with_validity(window=False).get(rate_plan=plan, valid_since=at(2024))
    assert (first.valid_to, first.status) == (at(2025), "superseded")


def test_rate_detail_shows_the_derived_valid_to(op_client, plan):
    rate = Rate.objects.get(rate_plan=plan, code="374", valid_since=at(2024))
    body = op_client.get(reverse("customers:rate_detail", args=[rate.pk])).content.decode()
    assert "2025-01-01 00:00" in body and "superseded" in body


def test_destinations_page_filters_by_code_prefix_and_valid_at(op_client, plan):
    url = reverse("customers:rate_list", args=[plan.pk])
    body = op_client.get(url, {"code": "3749"}).content.decode()
    assert "0.500000" in body and "0.300000" not in body
    # Valid at 2024-06-01: the 2024 rate of 374 (superseded today) and the catch-all; the
    # 2025 rates had not started. The valid-to column still shows the real next date.
    response = op_client.get(url, {"valid_at": "2024-06-01"})
    rows = list(response.context["table"].page.object_list)
    assert sorted((r.record.code, str(r.record.rate_per_min)) for r in rows) == [
        ("", "1.000000"),
        ("374", "0.300000"),
    ]
    assert [r.record.valid_to for r in rows if r.record.code == "374"] == [at(2025)]
    body = response.content.decode()
    assert "superseded" in body and "2025-01-01 00:00" in body


def test_destinations_page_query_count_is_the_same_with_a_filter(op_client, plan):
    url = reverse("customers:rate_list", args=[plan.pk])
    with CaptureQueriesContext(connection) as plain:
        op_client.get(url)
    with CaptureQueriesContext(connection) as filtered:
        op_client.get(url, {"code": "37", "valid_at": "2025-07-01"})
    assert len(plain) == len(filtered)


def test_the_description_fills_from_the_dialplan_on_save_when_left_empty(op_client, plan):
    op_client.post(
        reverse("customers:rate_add", args=[plan.pk]),
        {
            "code": "33",
            "description": "",
            "valid_since": "2026-01-01T00:00",
            "rate_per_min": "0.05",
            "connection_fee": "0",
            "connection_sec": "0",
            "billing_block_sec": "1",
        },
    )
    assert Rate.objects.get(rate_plan=plan, code="33").description == "France"


def test_describe_endpoint_fills_an_empty_or_auto_filled_description_but_keeps_a_typed_one(
    op_client, tenant
):
    url = reverse("customers:rate_describe")
    body = op_client.get(url, {"code": "374", "description": ""}).content.decode()
    assert 'value="Armenia"' in body and 'name="description_auto" value="Armenia"' in body
    body = op_client.get(
        url, {"code": "33", "description": "Armenia", "description_auto": "Armenia"}
    ).content.decode()
    assert 'value="France"' in body
    body = op_client.get(
        url, {"code": "33", "description": "My deal", "description_auto": "Armenia"}
    ).content.decode()
    assert 'value="My deal"' in body
    for garbage in ("37a", "\x00", "٣٧٤"):
        assert op_client.get(url, {"code": garbage}).status_code == 200


def test_a_duplicate_code_and_valid_since_is_a_form_error_not_a_500(op_client, plan):
    response = op_client.post(
        reverse("customers:rate_add", args=[plan.pk]),
        {
            "code": "374",
            "valid_since": "2024-01-01T00:00",
            "rate_per_min": "0.05",
            "connection_fee": "0",
            "connection_sec": "0",
            "billing_block_sec": "1",
        },
    )
    assert response.status_code == 200
    assert "already has a rate" in str(response.context["form"].errors)


def test_bad_rate_input_is_field_errors(op_client, plan):
    response = op_client.post(
        reverse("customers:rate_add", args=[plan.pk]),
        {
            "code": "+374",
            "valid_since": "yesterday",
            "rate_per_min": "-1",
            "connection_fee": "-1",
            "connection_sec": "-1",
            "billing_block_sec": "0",
        },
    )
    errors = response.context["form"].errors
    assert set(errors) >= {
        "code",
        "valid_since",
        "rate_per_min",
        "connection_fee",
        "connection_sec",
        "billing_block_sec",
    }


def test_rate_plan_delete_is_refused_while_trunks_use_it(op_client, tenant, plan):
    TrunkFactory(customer__tenant=tenant, rate_plan=plan)
    body = op_client.get(reverse("customers:rateplan_list")).content.decode()
    assert "1 trunk uses it" in body
    url = reverse("customers:rateplan_delete", args=[plan.pk])
    assert "used by 1 trunk" in op_client.get(url).content.decode()
    op_client.post(url)
    assert RatePlan.objects.filter(pk=plan.pk).exists()


def test_rate_plan_delete_removes_its_destinations(op_client, plan):
    url = reverse("customers:rateplan_delete", args=[plan.pk])
    assert "its 5 destinations" in op_client.get(url).content.decode()
    op_client.post(url)
    assert not Rate.objects.filter(rate_plan_id=plan.pk).exists()


def test_rate_plan_list_shows_destination_and_trunk_counts(op_client, tenant, plan):
    TrunkFactory(customer__tenant=tenant, rate_plan=plan)
    response = op_client.get(reverse("customers:rateplan_list"))
    record = response.context["table"].page.object_list[0].record
    assert (record.rate_count, record.trunk_count) == (5, 1)


@pytest.mark.parametrize("prefix", ["", "2", "29", "299", "3", "9", "99", "0", "x", "2a"])
def test_the_code_prefix_filter_keeps_exactly_the_codes_starting_with_it(tenant, prefix):
    # The filter adds an index range (prefix <= code < next prefix) to LIKE: it must keep
    # the same rows at the edges (carry over 9s, all-nines prefixes, the catch-all "").
    plan = RatePlanFactory(tenant=tenant)
    codes = ["", "0", "09", "1", "2", "20", "29", "299", "2999", "3", "30", "8", "9", "99", "999"]
    for code in codes:
        RateFactory(rate_plan=plan, code=code, valid_since=at(2024))
    found = Rate.objects.filter(rate_plan=plan).code_starts_with(prefix)
    assert sorted(r.code for r in found) == sorted(c for c in codes if c.startswith(prefix))


def test_a_late_page_of_destinations_shows_each_rows_own_valid_to_and_status(op_client, tenant):
    # 30 codes with two rates each (old superseded, new current) and a future one for the
    # last code: page 3 holds rows fetched by key, their valid-to looked up per row.
    plan = RatePlanFactory(tenant=tenant)
    for i in range(30):
        RateFactory(rate_plan=plan, code=f"4{i:02d}", valid_since=at(2024))
        RateFactory(rate_plan=plan, code=f"4{i:02d}", valid_since=at(2025))
    RateFactory(rate_plan=plan, code="429", valid_since=timezone.now() + timedelta(days=9))
    url = reverse("customers:rate_list", args=[plan.pk])
    response = op_client.get(url, {"page": 3})
    rows = [r.record for r in response.context["table"].page.object_list]
    assert [(r.code, r.valid_since.year) for r in rows][:3] == [
        ("425", 2024),
        ("425", 2025),
        ("426", 2024),
    ]
    for r in rows:
        if r.valid_since == at(2024):
            assert (r.valid_to, r.status) == (at(2025), "superseded")
        elif r.code == "429" and r.valid_since.year == 2025:
            assert r.valid_to > timezone.now() and r.status == "current"
        elif r.valid_since.year == 2025:
            assert (r.valid_to, r.status) == (None, "current")
        else:
            assert (r.valid_to, r.status) == (None, "future")
    assert len(rows) == 11


def test_valid_at_with_a_code_prefix_keeps_the_rate_in_effect_then(op_client, tenant):
    plan = RatePlanFactory(tenant=tenant)
    RateFactory(rate_plan=plan, code="2", valid_since=at(2020), rate_per_min="0.9")
    RateFactory(rate_plan=plan, code="21", valid_since=at(2024), rate_per_min="0.4")
    RateFactory(rate_plan=plan, code="21", valid_since=at(2026), rate_per_min="0.3")
    RateFactory(rate_plan=plan, code="3", valid_since=at(2020), rate_per_min="0.8")
    url = reverse("customers:rate_list", args=[plan.pk])
    response = op_client.get(url, {"code": "2", "valid_at": "2025-06-01"})
    rows = [r.record for r in response.context["table"].page.object_list]
    assert [(r.code, str(r.rate_per_min)) for r in rows] == [("2", "0.900000"), ("21", "0.400000")]
    assert rows[1].valid_to == at(2026) and rows[1].status == "superseded"
    assert response.context["table"].paginator.count == 2


def test_a_new_destination_is_valid_from_now_to_the_minute(op_client, tenant):
    plan = RatePlanFactory(tenant=tenant)
    before = datetime.now(UTC).replace(second=0, microsecond=0)
    body = op_client.get(reverse("customers:rate_add", args=[plan.pk])).content.decode()
    after = datetime.now(UTC).replace(second=0, microsecond=0)
    value = re.search(r'name="valid_since" value="([^"]+)"', body).group(1)
    shown = datetime.strptime(value, "%Y-%m-%dT%H:%M").replace(tzinfo=UTC)
    assert before <= shown <= after
    # so the first save, with only code and price typed, succeeds
    response = op_client.post(
        reverse("customers:rate_add", args=[plan.pk]),
        {
            "code": "374",
            "description": "",
            "valid_since": value,
            "rate_per_min": "0.10",
            "connection_fee": "0",
            "connection_sec": "0",
            "billing_block_sec": "1",
        },
    )
    assert response.status_code == 302
    assert plan.rates.get(code="374").valid_since == shown
