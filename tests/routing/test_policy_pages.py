"""The routing-policy pages (SPEC §9): translation sets with their rules and test box,
number lists with their entries, schedules with their windows and week grid; the shared
CRUD battery for each, refusals, bad input, and the new fields of the trunk, network, rule
and target forms."""

import csv
import io
import re
from datetime import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import Trunk
from routing.models import (
    Network,
    NumberList,
    NumberListEntry,
    RoutingRule,
    RoutingTarget,
    Schedule,
    ScheduleWindow,
    TranslationRule,
    TranslationSet,
)
from tests.crud import CrudBattery
from tests.customers.test_trunk_pages import trunk_data
from tests.factories import (
    CustomerFactory,
    NetworkFactory,
    NumberListEntryFactory,
    NumberListFactory,
    RoutingRuleFactory,
    RoutingTargetFactory,
    ScheduleFactory,
    ScheduleWindowFactory,
    TranslationRuleFactory,
    TranslationSetFactory,
    TrunkFactory,
)
from tests.routing.test_rule_pages import add_target, rule_data

pytestmark = pytest.mark.django_db


# The shared battery ---------------------------------------------------------------------------


class TestTranslationSetCrud(CrudBattery):
    model = TranslationSet
    url_prefix = "routing:translationset"

    def make(self, tenant, **kw):
        return TranslationSetFactory(tenant=tenant, **kw)

    def add_data(self, tenant):
        return {"name": "National to E.164"}

    def edit_data(self, obj):
        return {"name": obj.name + " (renamed)"}


class TestNumberListCrud(CrudBattery):
    model = NumberList
    url_prefix = "routing:numberlist"

    def make(self, tenant, **kw):
        return NumberListFactory(tenant=tenant, **kw)

    def add_data(self, tenant):
        return {"name": "Premium ranges", "kind": "deny", "applies_to": "called"}

    def edit_data(self, obj):
        return {"name": obj.name, "kind": "allow", "applies_to": "calling"}


class TestScheduleCrud(CrudBattery):
    model = Schedule
    url_prefix = "routing:schedule"

    def make(self, tenant, **kw):
        return ScheduleFactory(tenant=tenant, **kw)

    def add_data(self, tenant):
        return {"name": "Office hours", "timezone": "Asia/Yerevan"}

    def edit_data(self, obj):
        return {"name": obj.name, "timezone": "Europe/Berlin"}


class ChildBattery(CrudBattery):
    """The battery for rows that live on their parent's page (a set's rules, a list's
    entries, a schedule's windows): their "list" is the parent's page, their add page is
    under the parent, and they have no detail page of their own."""

    has_detail = False
    test_detail_requires_login = None
    test_detail_page_shows_the_row = None
    test_another_tenants_detail_is_404 = None
    test_a_missing_id_is_404 = None
    parent_action = ""  # the parent's URL name prefix

    def make_parent(self, tenant):
        raise NotImplementedError

    def make_child(self, parent, **kw):
        raise NotImplementedError

    @pytest.fixture(autouse=True)
    def _parent(self, tenant):
        self.parent = self.make_parent(tenant)

    def make(self, tenant, **kw):
        parent = self.parent if tenant.pk == self.parent.tenant_id else self.make_parent(tenant)
        return self.make_child(parent, **kw)

    def url(self, action, obj=None):
        if action == "list":
            return self.parent.get_absolute_url()
        if action == "add":
            return reverse(f"{self.url_prefix}_add", args=[self.parent.pk])
        return super().url(action, obj)

    def test_a_missing_parent_or_row_is_404(self, op_client, tenant):
        assert op_client.get(reverse(f"{self.url_prefix}_add", args=[999999999])).status_code == 404
        assert (
            op_client.get(reverse(f"{self.url_prefix}_edit", args=[999999999])).status_code == 404
        )

    def test_another_tenants_parent_takes_no_new_row(self, op_client, tenant, other_tenant):
        theirs = self.make_parent(other_tenant)
        url = reverse(f"{self.url_prefix}_add", args=[theirs.pk])
        before = self.count(other_tenant)
        assert op_client.get(url).status_code == 404
        assert op_client.post(url, self.add_data(tenant)).status_code == 404
        assert self.count(other_tenant) == before


class TestTranslationRuleCrud(ChildBattery):
    model = TranslationRule
    url_prefix = "routing:translationrule"

    def make_parent(self, tenant):
        return TranslationSetFactory(tenant=tenant)

    def make_child(self, parent, **kw):
        return TranslationRuleFactory(translation_set=parent, **kw)

    def list_text(self, obj):
        return obj.match

    def add_data(self, tenant):
        return {"position": "90", "match": "00([0-9]+)", "replace": "\\1", "stop": "on"}

    def edit_data(self, obj):
        return {"position": obj.position, "match": "0([0-9]+)", "replace": "374\\1"}


class TestNumberListEntryCrud(ChildBattery):
    model = NumberListEntry
    url_prefix = "routing:numberlistentry"

    def make_parent(self, tenant):
        return NumberListFactory(tenant=tenant)

    def make_child(self, parent, **kw):
        return NumberListEntryFactory(number_list=parent, **kw)

    def list_text(self, obj):
        return obj.value

    def add_data(self, tenant):
        return {"value": "3749", "match": "prefix", "note": "premium"}

    def edit_data(self, obj):
        return {"value": obj.value, "match": "exact", "note": "one number"}


class TestScheduleWindowCrud(ChildBattery):
    model = ScheduleWindow
    url_prefix = "routing:schedulewindow"

    def make_parent(self, tenant):
        return ScheduleFactory(tenant=tenant)

    def make_child(self, parent, **kw):
        return ScheduleWindowFactory(schedule=parent, **kw)

    def add_data(self, tenant):
        return {"weekdays": ["6", "7"], "start": "10:00", "end": "14:00"}

    def edit_data(self, obj):
        return {"weekdays": ["1"], "start": "08:30", "end": "12:00"}


# Translation sets -----------------------------------------------------------------------------


def test_the_rules_are_listed_in_position_order_with_their_stop(op_client, tenant):
    s = TranslationSetFactory(tenant=tenant)
    TranslationRuleFactory(translation_set=s, position=20, match="9([0-9]+)", stop=False)
    TranslationRuleFactory(translation_set=s, position=10, match="0([0-9]+)")
    body = op_client.get(s.get_absolute_url()).content.decode()
    table = body.split('data-testid="translation-rules"', 1)[1].split("</table>", 1)[0]
    assert table.index("0([0-9]+)") < table.index("9([0-9]+)")
    assert "stop" in table and "continue" in table


@pytest.mark.parametrize(
    "match, replace, field, message",
    [
        ("0([0-9]+", "\\1", "match", "Not a valid regular expression"),
        ("(0+)+1", "1", "match", "can backtrack too much"),
        ("(0|00)*1", "1", "match", "can backtrack too much"),
        ("(0)\\1", "1", "match", "Backreferences"),
        ("(?P<a>0)(?P=a)", "1", "match", "Backreferences"),
        ("0" * 201, "1", "match", "at most 200"),
        ("0([0-9]+)", "374\\2", "replace", "The match has no group 2"),
        ("0([0-9]+)", "+374\\1", "replace", "digits only"),
        ("0([0-9]+)", "\\g<name>", "replace", "no group named"),
        ("", "1", "match", "This field is required"),
    ],
)
def test_a_bad_rule_is_refused_on_its_field_and_nothing_is_saved(
    op_client, tenant, match, replace, field, message
):
    s = TranslationSetFactory(tenant=tenant)
    url = reverse("routing:translationrule_add", args=[s.pk])
    response = op_client.post(url, {"position": "1", "match": match, "replace": replace})
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert message.lower() in errors.lower(), response.context["form"].errors
    assert not s.rules.exists()


def test_two_rules_at_one_position_are_refused(op_client, tenant):
    rule = TranslationRuleFactory(translation_set__tenant=tenant, position=1)
    url = reverse("routing:translationrule_add", args=[rule.translation_set_id])
    response = op_client.post(url, {"position": "1", "match": "1", "replace": "2"})
    assert "already has a rule at this position" in response.content.decode()
    assert TranslationRule.objects.count() == 1


def test_the_add_rule_form_proposes_the_next_position(op_client, tenant):
    rule = TranslationRuleFactory(translation_set__tenant=tenant, position=7)
    body = op_client.get(reverse("routing:translationrule_add", args=[rule.translation_set_id]))
    assert 'name="position" value="8"' in body.content.decode()


def test_a_duplicate_name_is_refused_in_the_tenant_only(op_client, tenant, other_tenant):
    TranslationSetFactory(tenant=tenant, name="In")
    TranslationSetFactory(tenant=other_tenant, name="Out")
    url = reverse("routing:translationset_add")
    response = op_client.post(url, {"name": "In"})
    assert "A translation set with this name already exists." in response.content.decode()
    assert op_client.post(url, {"name": "Out"}).status_code == 302
    for url, data, message in (
        (
            reverse("routing:numberlist_add"),
            {"kind": "deny", "applies_to": "called"},
            "number list",
        ),
        (reverse("routing:schedule_add"), {"timezone": "UTC"}, "schedule"),
    ):
        assert op_client.post(url, {"name": "Twice", **data}).status_code == 302
        response = op_client.post(url, {"name": "Twice", **data})
        assert f"A {message} with this name already exists." in response.content.decode()


def test_a_set_in_use_cannot_be_deleted_and_the_page_says_by_what(op_client, tenant):
    used_in = TranslationSetFactory(tenant=tenant, name="in")
    used_out = TranslationSetFactory(tenant=tenant, name="out")
    TrunkFactory(customer__tenant=tenant, name="sbc-in", ingress_translation=used_in)
    NetworkFactory(tenant=tenant, name="Beeline", egress_translation=used_out)
    for s, name in ((used_in, "sbc-in"), (used_out, "Beeline")):
        url = reverse("routing:translationset_delete", args=[s.pk])
        page = op_client.get(url).content.decode()
        refusal = page.split('data-testid="delete-refusal"', 1)[1].split("</div>", 1)[0]
        assert name in refusal
        op_client.post(url)
        assert TranslationSet.objects.filter(pk=s.pk).exists()
    body = op_client.get(reverse("routing:translationset_list")).content.decode()
    assert "Used by 1 trunk." in body and "Used by 1 network." in body
    detail = op_client.get(used_in.get_absolute_url()).content.decode()
    assert "sbc-in" in detail.split('data-testid="set-trunks"', 1)[1].split("</dd>", 1)[0]
    # The disabled Delete says why in its tooltip: text, the refusal's links left out.
    assert re.search(r'title="Translation set “in” is used by [^"<]*sbc-in[^"<]*"', detail)


def test_an_unused_set_is_deleted_with_its_rules(op_client, tenant):
    rule = TranslationRuleFactory(translation_set__tenant=tenant)
    url = reverse("routing:translationset_delete", args=[rule.translation_set_id])
    assert "its 1 rule" in op_client.get(url).content.decode()
    assert op_client.post(url).status_code == 302
    assert not TranslationRule.objects.exists()


# The test box ---------------------------------------------------------------------------------


def box_answer(op_client, s, number, htmx=True):
    headers = {"HX-Request": "true"} if htmx else {}
    response = op_client.get(
        reverse("routing:translationset_test", args=[s.pk]), {"number": number}, headers=headers
    )
    assert response.status_code == 200
    return response.content.decode()


def steps(body):
    """[(position, matched)] of the rules the box shows, in order ("" = not tried)."""
    return [
        (int(p), m)
        for p, m in re.findall(r'<tr[^>]*data-position="(\d+)" data-matched="([01]?)"', body)
    ]


def result(body):
    return re.search(r'data-testid="test-result" data-outcome="(\w+)">(.*?)</div>', body, re.S)


def test_a_stop_rule_ends_the_set_and_the_later_rules_are_not_tried(op_client, tenant):
    s = TranslationSetFactory(tenant=tenant)
    TranslationRuleFactory(translation_set=s, position=1, match="00([0-9]+)", replace="\\1")
    TranslationRuleFactory(translation_set=s, position=2, match="0([0-9]+)", replace="374\\1")
    TranslationRuleFactory(translation_set=s, position=3, match="374([0-9]+)", replace="\\1")
    body = box_answer(op_client, s, "091234567")
    assert steps(body) == [(1, "0"), (2, "1"), (3, "")]
    assert "091234567 → 37491234567" in body
    outcome = result(body)
    assert outcome.group(1) == "ok" and "37491234567" in outcome.group(2)
    assert "<html" not in body  # htmx gets the box alone


def test_a_continue_rule_hands_the_new_number_to_the_following_rules(op_client, tenant):
    s = TranslationSetFactory(tenant=tenant)
    TranslationRuleFactory(
        translation_set=s, position=1, match="0([0-9]+)", replace="374\\1", stop=False
    )
    TranslationRuleFactory(translation_set=s, position=2, match="374([0-9]+)", replace="00374\\1")
    body = box_answer(op_client, s, "+091234567")  # the + is not part of what the rules see
    assert steps(body) == [(1, "1"), (2, "1")]
    assert "091234567 → 37491234567" in body and "37491234567 → 0037491234567" in body
    assert result(body).group(1) == "ok" and "0037491234567" in result(body).group(2)


def test_a_number_no_rule_matches_passes_unchanged(op_client, tenant):
    rule = TranslationRuleFactory(translation_set__tenant=tenant, match="0([0-9]+)")
    body = box_answer(op_client, rule.translation_set, "37491234567")
    assert steps(body) == [(rule.position, "0")]
    assert "unchanged" in result(body).group(2)


@pytest.mark.parametrize(
    "replace, number, shown",
    [
        ("", "0912", "“”"),  # an empty result
        ("\\1\\1\\1", "012345678901", "123456789011234567890112345678901"),  # 33 digits
    ],
)
def test_a_result_that_is_not_1_to_24_digits_is_shown_as_invalid_number(
    op_client, tenant, replace, number, shown
):
    rule = TranslationRuleFactory(
        translation_set__tenant=tenant, match="0([0-9]+)", replace=replace
    )
    body = box_answer(op_client, rule.translation_set, number)
    outcome = result(body)
    assert outcome.group(1) == "invalid_number"
    assert shown in outcome.group(2) and "not 1–24 digits" in outcome.group(2)


@pytest.mark.parametrize("number", ["", "12a4", "٣٧٤", "+", "1" * 25, "++1", "1 2", "1\x00"])
def test_a_number_that_is_not_digits_gets_a_visible_error_and_no_result(op_client, tenant, number):
    rule = TranslationRuleFactory(translation_set__tenant=tenant)
    for htmx in (True, False):
        body = box_answer(op_client, rule.translation_set, number, htmx=htmx)
        assert 'data-testid="test-error"' in body
        assert result(body) is None


def test_the_test_box_without_htmx_is_the_whole_page_with_the_result(op_client, tenant):
    rule = TranslationRuleFactory(translation_set__tenant=tenant)
    body = box_answer(op_client, rule.translation_set, "0912", htmx=False)
    assert "<html" in body and 'data-testid="translation-rules"' in body
    assert result(body).group(1) == "ok"


def test_a_viewer_may_use_the_test_box(viewer_client, tenant):
    rule = TranslationRuleFactory(translation_set__tenant=tenant)
    assert result(box_answer(viewer_client, rule.translation_set, "0912")).group(1) == "ok"


# Number lists ---------------------------------------------------------------------------------


def test_the_lists_table_counts_entries_and_trunks_and_filters(op_client, tenant):
    deny = NumberListFactory(tenant=tenant, name="premium", kind="deny")
    allow = NumberListFactory(tenant=tenant, name="callers", kind="allow", applies_to="calling")
    NumberListEntryFactory.create_batch(3, number_list=deny)
    trunk = TrunkFactory(customer__tenant=tenant)
    trunk.number_lists.add(deny, allow)
    url = reverse("routing:numberlist_list")
    body = op_client.get(url).content.decode()
    row = re.search(rf'<tr[^>]*data-pk="{deny.pk}".*?</tr>', body, re.S).group(0)
    assert re.findall(r'class="text-end">(\d+)<', row) == ["3", "1"]
    assert "Called number" in row and "Deny" in row

    def names(**params):
        page = op_client.get(url, params).content.decode()
        return {nl.name for nl in (deny, allow) if nl.get_absolute_url() in page}

    assert names(kind="allow") == {"callers"}
    assert names(applies_to="called") == {"premium"}
    assert names(q="prem") == {"premium"}


def test_a_list_checked_by_a_trunk_cannot_be_deleted(op_client, tenant):
    nl = NumberListFactory(tenant=tenant)
    TrunkFactory(customer__tenant=tenant, name="sbc-9").number_lists.add(nl)
    url = reverse("routing:numberlist_delete", args=[nl.pk])
    page = op_client.get(url).content.decode()
    assert "sbc-9" in page.split('data-testid="delete-refusal"', 1)[1].split("</div>", 1)[0]
    op_client.post(url)
    assert NumberList.objects.filter(pk=nl.pk).exists()
    body = op_client.get(reverse("routing:numberlist_list")).content.decode()
    assert "Used by 1 trunk." in body


def entry_rows(body):
    table = re.search(r"<tbody.*?</tbody>", body, re.S)
    return re.findall(r'<td class="font-monospace">(\d+)</td>', table.group(0)) if table else []


def test_a_lists_entries_are_paged_sorted_and_searched_by_value_prefix(op_client, tenant):
    nl = NumberListFactory(tenant=tenant)
    NumberListEntry.objects.bulk_create(
        NumberListEntry(number_list=nl, value=f"3749{i:03}") for i in range(60)
    )
    NumberListEntryFactory(number_list=nl, value="99", note="emergency")
    NumberListEntryFactory(number_list=NumberListFactory(tenant=tenant), value="3749000")
    url = nl.get_absolute_url()
    body = op_client.get(url).content.decode()
    assert len(entry_rows(body)) == 25 and entry_rows(body)[0] == "3749000"
    assert "61 entries" in body and "page 1 of 3" in body
    body = op_client.get(url, {"page": "3"}).content.decode()
    assert entry_rows(body) == [f"3749{i:03}" for i in range(50, 60)] + ["99"]
    body = op_client.get(url, {"sort": "-value"}).content.decode()
    assert entry_rows(body)[:2] == ["99", "3749059"]
    assert entry_rows(op_client.get(url, {"q": "374905"}).content.decode()) == [
        f"374905{i}" for i in range(10)
    ]
    assert entry_rows(op_client.get(url, {"q": "emerg"}).content.decode()) == ["99"]


def test_a_lists_page_renders_one_page_of_a_big_list_in_a_fixed_number_of_queries(
    op_client, tenant
):
    nl = NumberListFactory(tenant=tenant)
    NumberListEntryFactory(number_list=nl)
    with CaptureQueriesContext(connection) as one:
        assert op_client.get(nl.get_absolute_url()).status_code == 200
    NumberListEntry.objects.bulk_create(
        NumberListEntry(number_list=nl, value=f"{10**9 + i}") for i in range(10_000)
    )
    with CaptureQueriesContext(connection) as many:
        body = op_client.get(nl.get_absolute_url()).content.decode()
    assert len(many) == len(one)
    assert len(entry_rows(body)) == 25 and "10001 entries" in body.replace(",", "")


def test_a_lists_export_writes_its_entries_with_the_lists_name(op_client, tenant):
    nl = NumberListFactory(tenant=tenant, name="premium", kind="deny")
    NumberListEntryFactory(number_list=nl, value="3749", match="prefix", note="=cmd")
    NumberListEntryFactory(number_list=NumberListFactory(tenant=tenant), value="1")
    response = op_client.get(nl.get_absolute_url(), {"export": "csv"})
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert lines[0] == ["number_list", "kind", "applies_to", "value", "match", "note"]
    assert lines[1:] == [["premium", "deny", "called", "3749", "prefix", "'=cmd"]]


@pytest.mark.parametrize(
    "value, message",
    [
        ("12a4", "Use 1–24 digits"),
        ("+3749", "Use 1–24 digits"),
        ("٣٧٤", "Use 1–24 digits"),
        ("1" * 25, "at most 24 characters"),
        ("", "This field is required"),
    ],
)
def test_a_bad_entry_is_refused_on_its_field(op_client, tenant, value, message):
    nl = NumberListFactory(tenant=tenant)
    url = reverse("routing:numberlistentry_add", args=[nl.pk])
    response = op_client.post(url, {"value": value, "match": "prefix"})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["value"])
    assert not nl.entries.exists()


def test_a_duplicate_entry_is_refused_but_the_same_value_exact_is_another(op_client, tenant):
    entry = NumberListEntryFactory(number_list__tenant=tenant, value="3749", match="prefix")
    url = reverse("routing:numberlistentry_add", args=[entry.number_list_id])
    response = op_client.post(url, {"value": "3749", "match": "prefix"})
    assert "This list already has this entry." in response.content.decode()
    assert op_client.post(url, {"value": "3749", "match": "exact"}).status_code == 302
    assert entry.number_list.entries.count() == 2


def test_the_list_page_says_what_the_list_does_and_which_trunks_check_it(op_client, tenant):
    nl = NumberListFactory(tenant=tenant, kind="allow", applies_to="calling")
    TrunkFactory(customer__tenant=tenant, name="sbc-2").number_lists.add(nl)
    body = op_client.get(nl.get_absolute_url()).content.decode()
    said = body.split('data-testid="list-semantics"', 1)[1].split("</dd>", 1)[0]
    assert "calling number" in said and "without a calling number is refused" in said
    assert "sbc-2" in body.split('data-testid="list-trunks"', 1)[1].split("</dd>", 1)[0]


# Schedules ------------------------------------------------------------------------------------


def grid(body):
    """{day: [open hours]} of the week grid."""
    table = body.split('data-testid="week-grid"', 1)[1].split("</table>", 1)[0]
    days = {}
    for day, cells in re.findall(r'<tr data-day="(\w+)">(.*?)</tr>', table, re.S):
        days[day] = [
            int(h) for h, o in re.findall(r'data-hour="(\d+)" data-open="(\d)"', cells) if o == "1"
        ]
    return days


def test_an_overnight_window_shades_friday_night_and_saturday_morning(op_client, tenant):
    s = ScheduleFactory(tenant=tenant, timezone="Asia/Yerevan")
    ScheduleWindowFactory(schedule=s, weekdays=[5], start=time(22), end=time(2))
    body = op_client.get(s.get_absolute_url()).content.decode()
    assert grid(body) == {
        "Mon": [], "Tue": [], "Wed": [], "Thu": [], "Fri": [22, 23], "Sat": [0, 1], "Sun": [],
    }  # fmt: skip
    heading = body.split('data-testid="week-grid"', 1)[0].rsplit("<h2", 1)[1]
    assert "Asia/Yerevan" in heading
    assert "Fri 22:00–02:00" in body and "runs past midnight" in body


def test_windows_are_listed_as_days_and_times(op_client, tenant):
    s = ScheduleFactory(tenant=tenant)
    ScheduleWindowFactory(schedule=s, weekdays=[1, 2], start=time(9), end=time(17))
    ScheduleWindowFactory(schedule=s, weekdays=[6], start=time(10), end=time(13, 30))
    body = op_client.get(s.get_absolute_url()).content.decode()
    assert "Mon, Tue 09:00–17:00" in body and "Sat 10:00–13:30" in body
    days = grid(body)
    assert days["Mon"] == list(range(9, 17)) and days["Sat"] == [10, 11, 12, 13]
    assert days["Sun"] == []


def test_a_window_without_weekdays_is_refused_with_a_visible_message(op_client, tenant):
    s = ScheduleFactory(tenant=tenant)
    url = reverse("routing:schedulewindow_add", args=[s.pk])
    response = op_client.post(url, {"start": "09:00", "end": "17:00"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Choose at least one weekday." in body and "invalid-feedback" in body
    for forged in (["0"], ["8"], ["x"]):
        response = op_client.post(url, {"weekdays": forged, "start": "09:00", "end": "17:00"})
        assert "Select a valid choice" in response.content.decode()
    assert not s.windows.exists()


def test_the_window_form_has_seven_weekday_boxes_time_inputs_and_says_about_midnight(
    op_client, tenant
):
    s = ScheduleFactory(tenant=tenant)
    body = op_client.get(reverse("routing:schedulewindow_add", args=[s.pk])).content.decode()
    boxes = re.findall(r'<input type="checkbox"[^>]*name="weekdays" value="(\d)"', body)
    assert boxes == ["1", "2", "3", "4", "5", "6", "7"]
    for day in ("Mon", "Sun"):
        assert f">{day}<" in body or f"> {day}" in body or day in body
    assert re.search(r'<input type="time" name="start"', body)
    assert re.search(r'<input type="time" name="end"', body)
    assert "runs past midnight" in body


def test_a_window_is_saved_with_its_weekdays_as_numbers(op_client, tenant):
    s = ScheduleFactory(tenant=tenant)
    url = reverse("routing:schedulewindow_add", args=[s.pk])
    data = {"weekdays": ["5"], "start": "22:00", "end": "02:00"}
    assert op_client.post(url, data).status_code == 302
    window = s.windows.get()
    assert (window.weekdays, window.start, window.end) == ([5], time(22), time(2))


@pytest.mark.parametrize("zone", ["Mars/Olympus", "utc ", "Europe/berlin", "", "Asia/Yerevan\x00"])
def test_an_unknown_time_zone_is_a_field_error(op_client, tenant, zone):
    response = op_client.post(reverse("routing:schedule_add"), {"name": "s", "timezone": zone})
    assert response.status_code == 200
    assert response.context["form"].errors["timezone"]
    assert not Schedule.objects.filter(tenant=tenant).exists()


def test_the_time_zone_field_offers_the_zone_names(op_client, tenant):
    body = op_client.get(reverse("routing:schedule_add")).content.decode()
    assert 'list="timezone-names"' in body
    assert '<option value="Asia/Yerevan">' in body


def test_a_schedule_in_use_cannot_be_deleted_and_names_the_rules(op_client, tenant):
    on_rule = ScheduleFactory(tenant=tenant)
    on_target = ScheduleFactory(tenant=tenant)
    RoutingRuleFactory(tenant=tenant, code="374", schedule=on_rule)
    RoutingTargetFactory(rule__tenant=tenant, rule__code="39", schedule=on_target)
    for s, code in ((on_rule, "374"), (on_target, "39")):
        url = reverse("routing:schedule_delete", args=[s.pk])
        page = op_client.get(url).content.decode()
        assert code in page.split('data-testid="delete-refusal"', 1)[1].split("</div>", 1)[0]
        op_client.post(url)
        assert Schedule.objects.filter(pk=s.pk).exists()
    body = op_client.get(on_target.get_absolute_url()).content.decode()
    assert "39" in body.split('data-testid="schedule-targets"', 1)[1].split("</dd>", 1)[0]


# The new fields of the trunk, network, rule and target forms -----------------------------------


def test_a_trunk_gets_an_ingress_translation_and_number_lists_shown_on_its_page(op_client, tenant):
    s = TranslationSetFactory(tenant=tenant, name="national")
    lists = NumberListFactory.create_batch(2, tenant=tenant)
    customer = CustomerFactory(tenant=tenant)
    data = trunk_data(
        customer, "203.0.113.10", ingress_translation=s.pk, number_lists=[nl.pk for nl in lists]
    )
    response = op_client.post(reverse("customers:trunk_add"), data)
    assert response.status_code == 302, response.context["form"].errors
    trunk = Trunk.objects.get(name="sbc-1")
    assert trunk.ingress_translation == s
    assert set(trunk.number_lists.all()) == set(lists)
    body = op_client.get(trunk.get_absolute_url()).content.decode()
    shown = body.split('data-testid="trunk-translation"', 1)[1].split("</dd>", 1)[0]
    assert f'href="{s.get_absolute_url()}"' in shown
    shown = body.split('data-testid="trunk-number-lists"', 1)[1].split("</dd>", 1)[0]
    assert all(f'href="{nl.get_absolute_url()}"' in shown for nl in lists)
    # Emptied in the form (the page always sends the field): none.
    edit = trunk_data(customer, "203.0.113.10", number_lists=[""], ingress_translation="")
    edit["networks-INITIAL_FORMS"] = "0"
    trunk.networks.all().delete()
    assert op_client.post(reverse("customers:trunk_edit", args=[trunk.pk]), edit).status_code == 302
    trunk.refresh_from_db()
    assert trunk.ingress_translation is None and not trunk.number_lists.exists()


def test_a_write_that_does_not_send_the_policy_fields_keeps_them(op_client, tenant):
    """An import of trunks (its columns predate routing policy) must not clear them."""
    s = TranslationSetFactory(tenant=tenant)
    nl = NumberListFactory(tenant=tenant)
    trunk = TrunkFactory(customer__tenant=tenant, ingress_translation=s)
    trunk.number_lists.add(nl)
    data = trunk_data(trunk.customer, "203.0.113.10", name=trunk.name, tech_prefix="55")
    response = op_client.post(reverse("customers:trunk_edit", args=[trunk.pk]), data)
    assert response.status_code == 302
    trunk.refresh_from_db()
    assert trunk.tech_prefix == "55"
    assert trunk.ingress_translation == s and list(trunk.number_lists.all()) == [nl]


def test_forged_choices_of_another_tenant_are_refused_on_every_form(
    op_client, tenant, other_tenant
):
    their_set = TranslationSetFactory(tenant=other_tenant)
    their_list = NumberListFactory(tenant=other_tenant)
    their_schedule = ScheduleFactory(tenant=other_tenant)
    customer = CustomerFactory(tenant=tenant)
    for forged in ({"ingress_translation": their_set.pk}, {"number_lists": [their_list.pk]}):
        response = op_client.post(
            reverse("customers:trunk_add"), trunk_data(customer, "203.0.113.10", **forged)
        )
        assert "Select a valid choice" in response.content.decode(), forged
    assert not Trunk.objects.filter(customer=customer).exists()

    response = op_client.post(
        reverse("routing:network_add"), {"name": "Beeline", "egress_translation": their_set.pk}
    )
    assert "Select a valid choice" in str(response.context["form"].errors["egress_translation"])
    assert not Network.objects.filter(tenant=tenant).exists()

    response = op_client.post(
        reverse("routing:routingrule_add"), rule_data(schedule=their_schedule.pk)
    )
    assert "Select a valid choice" in str(response.context["form"].errors["schedule"])
    assert not RoutingRule.objects.filter(tenant=tenant).exists()

    rule = RoutingRuleFactory(tenant=tenant)
    network = NetworkFactory(tenant=tenant)
    response = add_target(
        op_client, rule, kind="network", network=network.pk, schedule=their_schedule.pk
    )
    assert "Select a valid choice" in response.content.decode()
    assert not rule.targets.exists()


def test_a_network_rule_and_target_show_their_translation_and_schedule(op_client, tenant):
    s = TranslationSetFactory(tenant=tenant, name="to-local")
    schedule = ScheduleFactory(tenant=tenant, name="nights")
    response = op_client.post(
        reverse("routing:network_add"), {"name": "Beeline", "egress_translation": s.pk}
    )
    network = Network.objects.get(tenant=tenant, name="Beeline")
    assert response.status_code == 302 and network.egress_translation == s
    body = op_client.get(network.get_absolute_url()).content.decode()
    assert "to-local" in body.split('data-testid="egress-translation"', 1)[1].split("</dd>", 1)[0]

    response = op_client.post(reverse("routing:routingrule_add"), rule_data(schedule=schedule.pk))
    rule = RoutingRule.objects.get(tenant=tenant, code="374")
    assert rule.schedule == schedule
    body = op_client.get(rule.get_absolute_url()).content.decode()
    assert "nights" in body.split('data-testid="rule-schedule"', 1)[1].split("</dd>", 1)[0]

    response = add_target(op_client, rule, kind="network", network=network.pk, schedule=schedule.pk)
    target = rule.targets.get()
    assert target.schedule == schedule
    assert "nights" in response.content.decode()  # the saved row shows its schedule
    body = op_client.get(reverse("routing:routingrule_targets", args=[rule.pk])).content.decode()
    assert f'<option value="{schedule.pk}" selected>nights</option>' in body


def test_the_targets_page_costs_the_same_queries_with_scheduled_targets(op_client, tenant):
    rule = RoutingRuleFactory(tenant=tenant)
    url = reverse("routing:routingrule_targets", args=[rule.pk])
    RoutingTargetFactory(rule=rule, schedule=ScheduleFactory(tenant=tenant))
    with CaptureQueriesContext(connection) as one:
        assert op_client.get(url).status_code == 200
    for _ in range(10):
        RoutingTargetFactory(rule=rule, schedule=ScheduleFactory(tenant=tenant))
    with CaptureQueriesContext(connection) as many:
        assert op_client.get(url).status_code == 200
    assert len(many) == len(one)


def test_the_policy_options_are_the_tenants_own_and_searchable(op_client, tenant, other_tenant):
    mine = ScheduleFactory(tenant=tenant, name="office")
    ScheduleFactory(tenant=tenant, name="nights")
    theirs = ScheduleFactory(tenant=other_tenant, name="office hours B")
    url = reverse("routing:policy_options")
    body = op_client.get(url, {"kind": "schedule", "q": "off"}).content.decode()
    assert f'value="{mine.pk}"' in body and "nights" not in body and "hours B" not in body
    body = op_client.get(url, {"kind": "schedule", "schedule": theirs.pk}).content.decode()
    assert f'value="{theirs.pk}"' not in body
    for kind, name in (("translation_set", "set-x"), ("number_list", "list-x")):
        factory = TranslationSetFactory if kind == "translation_set" else NumberListFactory
        factory(tenant=tenant, name=name)
        assert name in op_client.get(url, {"kind": kind}).content.decode()
    assert op_client.get(url, {"kind": "zzz\x00"}).status_code == 200


# Admin ----------------------------------------------------------------------------------------


def test_the_admin_refuses_another_tenants_number_list_on_a_trunk(
    staff_client, tenant, other_tenant
):
    trunk = TrunkFactory(customer__tenant=tenant)
    theirs = NumberListFactory(tenant=other_tenant)
    url = reverse("admin:customers_trunk_add")
    response = staff_client.post(
        url,
        {
            "tenant": tenant.pk,
            "customer": trunk.customer_id,
            "name": "t",
            "tech_prefix": "1",
            "max_concurrent_calls": 10,
            "codecs": '["PCMA"]',
            "status": "active",
            "number_lists": [theirs.pk],
            "networks-TOTAL_FORMS": 0,
            "networks-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Trunk.objects.filter(name="t").exists()
    change = staff_client.get(reverse("admin:customers_trunk_change", args=[trunk.pk]))
    assert theirs.name not in change.content.decode()  # offered: the trunk's tenant's lists


def test_the_admin_refuses_a_catastrophic_pattern(staff_client, tenant):
    s = TranslationSetFactory(tenant=tenant)
    response = staff_client.post(
        reverse("admin:routing_translationrule_add"),
        {"translation_set": s.pk, "position": 1, "match": "(0+)+1", "replace": "1"},
    )
    assert response.status_code == 200
    assert "backtrack too much" in response.content.decode()
    assert not TranslationRule.objects.exists()


def test_the_admin_list_change_form_shows_one_page_of_a_big_lists_entries(staff_client, tenant):
    nl = NumberListFactory(tenant=tenant)
    NumberListEntry.objects.bulk_create(
        NumberListEntry(number_list=nl, value=f"{10**6 + i}") for i in range(500)
    )
    body = staff_client.get(reverse("admin:routing_numberlist_change", args=[nl.pk]))
    assert body.status_code == 200
    assert 'name="entries-INITIAL_FORMS" value="50"' in body.content.decode()


def test_the_sidebar_offers_the_policy_pages_after_routing_rules(op_client, tenant):
    body = op_client.get(reverse("routing:schedule_list")).content.decode()
    sidebar = body.split('class="nav flex-column"', 1)[1].split("</ul>", 1)[0]
    labels = re.findall(r'<a class="nav-link[^"]*" href="[^"]*"[^>]*>([^<]+)</a>', sidebar)
    at = labels.index("Routing rules")
    assert labels[at + 1 : at + 4] == ["Translations", "Number lists", "Schedules"]
    assert re.search(r'nav-link active[^"]*" href="/routing/schedules/"', sidebar)
    window = ScheduleWindowFactory(schedule__tenant=tenant)
    body = op_client.get(reverse("routing:schedulewindow_edit", args=[window.pk])).content.decode()
    assert re.search(r'nav-link active[^"]*" href="/routing/schedules/"', body)


def test_a_target_write_that_does_not_send_the_schedule_keeps_it(op_client, tenant):
    """The target row form keeps a target's schedule when a write does not send it."""
    schedule = ScheduleFactory(tenant=tenant)
    target = RoutingTargetFactory(rule__tenant=tenant, schedule=schedule)
    p = f"t{target.pk}"
    response = op_client.post(
        reverse("routing:routingtarget_edit", args=[target.pk]),
        {
            f"{p}-kind": "client",
            f"{p}-client": target.client_id,
            f"{p}-weight": "3",
            f"{p}-priority": "0",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    target = RoutingTarget.objects.get(pk=target.pk)
    assert (target.weight, target.schedule) == (3, schedule)


def test_the_admin_refuses_another_tenants_schedule_on_a_rule(staff_client, tenant, other_tenant):
    theirs = ScheduleFactory(tenant=other_tenant)
    response = staff_client.post(
        reverse("admin:routing_routingrule_add"),
        {
            "tenant": tenant.pk,
            "code": "374",
            "label": "Armenia",
            "assignment": "weight",
            "schedule": theirs.pk,
            "is_active": "on",
            "targets-TOTAL_FORMS": 0,
            "targets-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not RoutingRule.objects.filter(tenant=tenant).exists()
