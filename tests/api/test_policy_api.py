"""The routing policy's API (SPEC §9): translation sets and rules, number lists and entries,
schedules and windows through the shared battery; the policy fields the trunk, network,
rule, target and check endpoints gained; every bad input a 400 naming the field, another
tenant's row read like a missing one, and a race on one invariant."""

from functools import partial

import pytest

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
from tests.api.battery import ApiBattery
from tests.factories import (
    NetworkFactory,
    NumberListEntryFactory,
    NumberListFactory,
    RoutingCheckFactory,
    RoutingRuleFactory,
    RoutingTargetFactory,
    ScheduleFactory,
    ScheduleWindowFactory,
    TranslationRuleFactory,
    TranslationSetFactory,
    TrunkFactory,
    TrunkNetworkFactory,
)
from tests.race import RACERS, api_call, api_client, assert_one_winner, fire_at_once


class TestTranslationSetApi(ApiBattery):
    model = TranslationSet
    basename = "translationset"

    def make(self, tenant, **kw):
        return TranslationSetFactory(tenant=tenant, **kw)

    def create_body(self, tenant):
        return {"name": "Carrier national format"}

    def update_body(self, obj):
        return {"name": obj.name + " 2"}

    def patch_body(self, obj):
        return {"name": "renamed"}

    def refusals(self, tenant):
        TranslationSetFactory(tenant=tenant, name="Taken")
        return [
            ("duplicate name", {"name": "Taken"}, "non_field_errors"),
            ("blank name", {"name": ""}, "name"),
            ("NUL in name", {"name": "a\x00b"}, "name"),
            ("number as name", {"name": 5}, "name"),
        ]

    def protected(self, tenant):
        translation = TranslationSetFactory(tenant=tenant)
        TrunkFactory(customer__tenant=tenant, ingress_translation=translation)
        return translation


class TestTranslationRuleApi(ApiBattery):
    model = TranslationRule
    basename = "translationrule"
    foreign_keys = ("translation_set",)
    test_a_protected_delete_is_a_409 = None

    def make(self, tenant, **kw):
        return TranslationRuleFactory(translation_set__tenant=tenant, **kw)

    def create_body(self, tenant):
        translation = TranslationSetFactory(tenant=tenant)
        return {
            "translation_set": translation.pk,
            "position": 1,
            "match": "0([0-9]+)",
            "replace": "374\\1",
        }

    def update_body(self, obj):
        return {
            "translation_set": obj.translation_set_id,
            "position": obj.position + 100,
            "match": "00([0-9]+)",
            "replace": "\\1",
            "stop": False,
        }

    def patch_body(self, obj):
        return {"stop": False, "replace": "3740\\1"}

    def foreign_value(self, field, tenant):
        return TranslationSetFactory(tenant=tenant).pk

    def refusals(self, tenant):
        base = self.create_body(tenant)
        TranslationRuleFactory(translation_set_id=base["translation_set"], position=7)
        return [
            ("invalid regex", {**base, "match": "0([0-9]+"}, "match"),
            ("catastrophic regex", {**base, "match": "(0+)+1", "replace": ""}, "match"),
            ("repeated alternation", {**base, "match": "(0|00)*1", "replace": ""}, "match"),
            ("backreference", {**base, "match": "([0-9])\\1"}, "match"),
            ("named backreference", {**base, "match": "(?P<a>[0-9])(?P=a)"}, "match"),
            ("201 characters", {**base, "match": "0" * 201, "replace": ""}, "match"),
            ("empty match", {**base, "match": ""}, "match"),
            ("match as number", {**base, "match": 0}, "match"),
            ("missing group", {**base, "match": "0[0-9]+", "replace": "374\\1"}, "replace"),
            ("group 2 of 1", {**base, "replace": "\\2"}, "replace"),
            ("missing named group", {**base, "replace": "\\g<rest>"}, "replace"),
            ("plus in the result", {**base, "replace": "+374\\1"}, "replace"),
            ("letters in the result", {**base, "replace": "abc"}, "replace"),
            ("same position", {**base, "position": 7}, "non_field_errors"),
            ("position 0", {**base, "position": 0}, "position"),
            ("position as string", {**base, "position": "1"}, "position"),
            ("stop as string", {**base, "stop": "false"}, "stop"),
            ("no set", {**base, "translation_set": None}, "translation_set"),
        ]


class TestNumberListApi(ApiBattery):
    model = NumberList
    basename = "numberlist"

    def make(self, tenant, **kw):
        return NumberListFactory(tenant=tenant, **kw)

    def create_body(self, tenant):
        return {"name": "Premium ranges", "kind": "deny", "applies_to": "called"}

    def update_body(self, obj):
        return {"name": obj.name + " 2", "kind": "allow", "applies_to": "calling"}

    def patch_body(self, obj):
        return {"kind": "allow"}

    def refusals(self, tenant):
        NumberListFactory(tenant=tenant, name="Taken")
        return [
            ("duplicate name", {"name": "Taken"}, "non_field_errors"),
            ("unknown kind", {"name": "x", "kind": "block"}, "kind"),
            ("kind as boolean", {"name": "x", "kind": True}, "kind"),
            ("unknown number", {"name": "x", "applies_to": "redirecting"}, "applies_to"),
            ("blank name", {"name": ""}, "name"),
        ]

    def protected(self, tenant):
        number_list = NumberListFactory(tenant=tenant)
        TrunkFactory(customer__tenant=tenant).number_lists.add(number_list)
        return number_list


class TestNumberListEntryApi(ApiBattery):
    model = NumberListEntry
    basename = "numberlistentry"
    foreign_keys = ("number_list",)
    test_a_protected_delete_is_a_409 = None

    def make(self, tenant, **kw):
        return NumberListEntryFactory(number_list__tenant=tenant, **kw)

    def create_body(self, tenant):
        number_list = NumberListFactory(tenant=tenant)
        return {"number_list": number_list.pk, "value": "3749", "match": "prefix", "note": "x"}

    def update_body(self, obj):
        return {"number_list": obj.number_list_id, "value": "37491", "match": "exact"}

    def patch_body(self, obj):
        return {"note": "premium rate", "match": "exact"}

    def foreign_value(self, field, tenant):
        return NumberListFactory(tenant=tenant).pk

    def refusals(self, tenant):
        base = self.create_body(tenant)
        NumberListEntryFactory(number_list_id=base["number_list"], value="3749", match="prefix")
        return [
            ("duplicate entry", base, "non_field_errors"),
            ("letters", {**base, "value": "37a9"}, "value"),
            ("a plus", {**base, "value": "+3749"}, "value"),
            ("arabic-indic digits", {**base, "value": "٣٧٤"}, "value"),
            ("25 digits", {**base, "value": "1" * 25}, "value"),
            ("empty", {**base, "value": ""}, "value"),
            ("value as number", {**base, "value": 3749}, "value"),
            ("unknown match", {**base, "value": "1", "match": "suffix"}, "match"),
            ("NUL in note", {**base, "value": "1", "note": "a\x00"}, "note"),
        ]


class TestScheduleApi(ApiBattery):
    model = Schedule
    basename = "schedule"

    def make(self, tenant, **kw):
        return ScheduleFactory(tenant=tenant, **kw)

    def create_body(self, tenant):
        return {"name": "Office hours", "timezone": "Asia/Yerevan"}

    def update_body(self, obj):
        return {"name": obj.name + " 2", "timezone": "UTC"}

    def patch_body(self, obj):
        return {"timezone": "America/New_York"}

    def refusals(self, tenant):
        ScheduleFactory(tenant=tenant, name="Taken")
        return [
            ("duplicate name", {"name": "Taken"}, "non_field_errors"),
            ("unknown time zone", {"name": "x", "timezone": "Mars/Olympus"}, "timezone"),
            ("an offset", {"name": "x", "timezone": "+04:00"}, "timezone"),
            ("empty time zone", {"name": "x", "timezone": ""}, "timezone"),
            ("time zone as number", {"name": "x", "timezone": 4}, "timezone"),
        ]

    def protected(self, tenant):
        schedule = ScheduleFactory(tenant=tenant)
        RoutingRuleFactory(tenant=tenant, schedule=schedule)
        return schedule


class TestScheduleWindowApi(ApiBattery):
    model = ScheduleWindow
    basename = "schedulewindow"
    foreign_keys = ("schedule",)
    test_a_protected_delete_is_a_409 = None

    def make(self, tenant, **kw):
        return ScheduleWindowFactory(schedule__tenant=tenant, **kw)

    def create_body(self, tenant):
        schedule = ScheduleFactory(tenant=tenant)
        return {
            "schedule": schedule.pk,
            "weekdays": [1, 2, 3, 4, 5],
            "start": "09:00",
            "end": "17:00",
        }

    def update_body(self, obj):
        return {"schedule": obj.schedule_id, "weekdays": [5, 6], "start": "22:00", "end": "02:00"}

    def patch_body(self, obj):
        return {"weekdays": [6, 7]}

    def foreign_value(self, field, tenant):
        return ScheduleFactory(tenant=tenant).pk

    def refusals(self, tenant):
        base = self.create_body(tenant)
        return [
            ("no weekdays", {**base, "weekdays": []}, "weekdays"),
            ("weekdays not a list", {**base, "weekdays": "1,2"}, "weekdays"),
            ("weekdays as strings", {**base, "weekdays": ["1"]}, "weekdays"),
            ("weekday 0", {**base, "weekdays": [0]}, "weekdays"),
            ("weekday 8", {**base, "weekdays": [1, 8]}, "weekdays"),
            ("a weekday twice", {**base, "weekdays": [1, 1]}, "weekdays"),
            ("a boolean weekday", {**base, "weekdays": [True]}, "weekdays"),
            ("no weekdays at all", {k: v for k, v in base.items() if k != "weekdays"}, "weekdays"),
            ("hour 25", {**base, "start": "25:00"}, "start"),
            ("an offset", {**base, "start": "09:00:00Z"}, "start"),
            ("one-digit hour", {**base, "start": "9:00"}, "start"),
            ("a trailing newline", {**base, "end": "17:00\n"}, "end"),
            ("fractions", {**base, "end": "17:00:00.5"}, "end"),
            ("time as number", {**base, "end": 17}, "end"),
            ("no end", {k: v for k, v in base.items() if k != "end"}, "end"),
        ]


# --- what each answer says ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_rules_refusals_say_why_in_an_operators_words(op_api, tenant):
    translation = TranslationSetFactory(tenant=tenant)
    base = {"translation_set": translation.pk, "position": 1}
    cases = [
        ({"match": "(0+)+1", "replace": ""}, "match", "backtrack too much"),
        ({"match": "([0-9])\\1", "replace": ""}, "match", "Backreferences"),
        ({"match": "0([0-9]+", "replace": ""}, "match", "Not a valid regular expression"),
        ({"match": "0" * 201, "replace": ""}, "match", "At most 200 characters"),
        ({"match": "0[0-9]+", "replace": "\\1"}, "replace", "has no group 1"),
        ({"match": "0([0-9]+)", "replace": "+\\1"}, "replace", "digits only"),
    ]
    for body, field, words in cases:
        response = op_api.post("/api/v1/translation-rules/", {**base, **body}, format="json")
        assert response.status_code == 400
        assert any(words in m for m in response.json()[field]), (body, response.json())
    assert not TranslationRule.objects.exists()


@pytest.mark.django_db
def test_a_window_reads_back_as_sorted_weekdays_and_times(op_api, tenant):
    schedule = ScheduleFactory(tenant=tenant)
    body = {"schedule": schedule.pk, "weekdays": [5, 1, 3], "start": "22:00", "end": "02:00"}
    response = op_api.post("/api/v1/schedule-windows/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["weekdays"] == [1, 3, 5]
    assert (response.json()["start"], response.json()["end"]) == ("22:00:00", "02:00:00")
    assert ScheduleWindow.objects.get().weekdays == [1, 3, 5]
    response = op_api.post("/api/v1/schedule-windows/", {**body, "weekdays": [2, 2]}, format="json")
    assert response.json() == {"weekdays": ["A weekday is listed twice."]}


@pytest.mark.django_db
def test_an_unknown_time_zone_names_the_field_and_saves_nothing(op_api, tenant):
    body = {"name": "Night", "timezone": "Europe/Atlantis"}
    response = op_api.post("/api/v1/schedules/", body, format="json")
    assert response.status_code == 400
    assert "IANA time zone" in response.json()["timezone"][0]
    assert not Schedule.objects.exists()


# --- the children filter by their parent ----------------------------------------------------


@pytest.mark.django_db
def test_rules_filter_by_their_set_and_list_in_position_order(op_api, tenant, other_tenant):
    mine = TranslationSetFactory(tenant=tenant)
    second = TranslationRuleFactory(translation_set=mine, position=2)
    first = TranslationRuleFactory(translation_set=mine, position=1)
    TranslationRuleFactory(translation_set__tenant=tenant)
    rows = op_api.get(f"/api/v1/translation-rules/?translation_set={mine.pk}").json()["results"]
    assert [r["id"] for r in rows] == [first.pk, second.pk]
    theirs = TranslationSetFactory(tenant=other_tenant)
    forged = op_api.get(f"/api/v1/translation-rules/?translation_set={theirs.pk}")
    missing = op_api.get(f"/api/v1/translation-rules/?translation_set={theirs.pk + 10_000}")
    assert forged.status_code == missing.status_code == 400
    assert forged.json() == missing.json()


@pytest.mark.django_db
def test_entries_of_a_large_list_are_paged_and_filter_by_list_and_value(op_api, tenant):
    big = NumberListFactory(tenant=tenant)
    NumberListEntry.objects.bulk_create(
        NumberListEntry(number_list=big, value=f"1900{i:04d}", match="exact") for i in range(1200)
    )
    other = NumberListEntryFactory(number_list__tenant=tenant, value="19000000")
    page = op_api.get(f"/api/v1/number-list-entries/?number_list={big.pk}").json()
    assert page["count"] == 1200 and len(page["results"]) == 50 and page["next"]
    assert page["results"][0]["value"] == "19000000"
    last = op_api.get(f"/api/v1/number-list-entries/?number_list={big.pk}&page_size=500&page=3")
    assert len(last.json()["results"]) == 200
    rows = op_api.get("/api/v1/number-list-entries/?q=1900001").json()
    assert rows["count"] == 10
    rows = op_api.get(f"/api/v1/number-list-entries/?q=%2B1900001&number_list={big.pk}").json()
    assert rows["count"] == 10
    rows = op_api.get(f"/api/v1/number-list-entries/?number_list={other.number_list_id}").json()
    assert [r["id"] for r in rows["results"]] == [other.pk]
    assert op_api.get("/api/v1/number-list-entries/?match=suffix").status_code == 400


@pytest.mark.django_db
def test_windows_filter_by_their_schedule_and_lists_filter_by_kind(op_api, tenant, other_tenant):
    window = ScheduleWindowFactory(schedule__tenant=tenant)
    ScheduleWindowFactory(schedule__tenant=tenant)
    rows = op_api.get(f"/api/v1/schedule-windows/?schedule={window.schedule_id}").json()
    assert [r["id"] for r in rows["results"]] == [window.pk]
    theirs = ScheduleFactory(tenant=other_tenant)
    assert op_api.get(f"/api/v1/schedule-windows/?schedule={theirs.pk}").status_code == 400
    allow = NumberListFactory(tenant=tenant, kind="allow", applies_to="calling")
    NumberListFactory(tenant=tenant, kind="deny")
    rows = op_api.get("/api/v1/number-lists/?kind=allow&applies_to=calling").json()["results"]
    assert [r["id"] for r in rows] == [allow.pk]


# --- the fields the existing endpoints gained -----------------------------------------------


def trunk_body(tenant, **extra):
    trunk = TrunkFactory.build(customer__tenant=tenant)
    trunk.customer.save()
    return {
        "customer": trunk.customer.pk,
        "name": "ingress-1",
        "tech_prefix": "77",
        "networks": ["203.0.113.10"],
        **extra,
    }


@pytest.mark.django_db
def test_a_trunk_takes_its_ingress_translation_and_number_lists(op_api, tenant):
    translation = TranslationSetFactory(tenant=tenant)
    deny, allow = NumberListFactory(tenant=tenant), NumberListFactory(tenant=tenant)
    body = trunk_body(tenant, ingress_translation=translation.pk, number_lists=[deny.pk])
    response = op_api.post("/api/v1/trunks/", body, format="json")
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert response.json()["ingress_translation"] == translation.pk
    assert response.json()["number_lists"] == [deny.pk]
    trunk = Trunk.objects.get(pk=pk)
    assert trunk.ingress_translation == translation
    assert list(trunk.number_lists.all()) == [deny]

    patch = {"number_lists": [deny.pk, allow.pk]}
    response = op_api.patch(f"/api/v1/trunks/{pk}/", patch, format="json")
    assert sorted(response.json()["number_lists"]) == sorted([deny.pk, allow.pk])
    # A PATCH without the lists keeps them; a PUT without them replaces them with none.
    response = op_api.patch(f"/api/v1/trunks/{pk}/", {"ingress_translation": None}, format="json")
    assert len(response.json()["number_lists"]) == 2
    assert response.json()["ingress_translation"] is None
    put = {k: v for k, v in body.items() if k not in ("number_lists", "ingress_translation")}
    response = op_api.put(f"/api/v1/trunks/{pk}/", put, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["number_lists"] == []
    assert not trunk.number_lists.exists()


@pytest.mark.django_db
def test_a_trunks_policy_of_another_tenant_reads_like_a_missing_one(op_api, tenant, other_tenant):
    theirs_set = TranslationSetFactory(tenant=other_tenant)
    theirs_list = NumberListFactory(tenant=other_tenant)
    mine = NumberListFactory(tenant=tenant)
    for field, forged, missing in (
        ("ingress_translation", theirs_set.pk, theirs_set.pk + 10_000),
        ("number_lists", [mine.pk, theirs_list.pk], [mine.pk, theirs_list.pk + 10_000]),
    ):
        a = op_api.post("/api/v1/trunks/", trunk_body(tenant, **{field: forged}), format="json")
        b = op_api.post("/api/v1/trunks/", trunk_body(tenant, **{field: missing}), format="json")
        assert a.status_code == b.status_code == 400
        text_a = (
            str(a.json()[field]).replace(str(theirs_set.pk), "X").replace(str(theirs_list.pk), "X")
        )
        text_b = (
            str(b.json()[field])
            .replace(str(theirs_set.pk + 10_000), "X")
            .replace(str(theirs_list.pk + 10_000), "X")
        )
        assert text_a == text_b and "Invalid pk" in text_a
    twice = trunk_body(tenant, number_lists=[mine.pk, mine.pk])
    response = op_api.post("/api/v1/trunks/", twice, format="json")
    assert response.status_code == 400 and "listed twice" in response.json()["number_lists"][0]
    as_text = trunk_body(tenant, number_lists=[str(mine.pk)])
    assert op_api.post("/api/v1/trunks/", as_text, format="json").status_code == 400
    assert not Trunk.objects.filter(tenant=tenant).exists()


@pytest.mark.django_db
def test_network_rule_and_target_take_a_policy_of_their_own_tenant_only(
    op_api, tenant, other_tenant
):
    translation, schedule = TranslationSetFactory(tenant=tenant), ScheduleFactory(tenant=tenant)
    theirs_set, theirs_schedule = (
        TranslationSetFactory(tenant=other_tenant),
        ScheduleFactory(tenant=other_tenant),
    )
    network = NetworkFactory(tenant=tenant)
    rule = RoutingRuleFactory(tenant=tenant)
    target = RoutingTargetFactory(rule=rule)
    cases = [
        (f"/api/v1/networks/{network.pk}/", "egress_translation", translation, theirs_set),
        (f"/api/v1/routing-rules/{rule.pk}/", "schedule", schedule, theirs_schedule),
        (f"/api/v1/routing-targets/{target.pk}/", "schedule", schedule, theirs_schedule),
    ]
    for url, field, mine, theirs in cases:
        forged = op_api.patch(url, {field: theirs.pk}, format="json")
        missing = op_api.patch(url, {field: theirs.pk + 10_000}, format="json")
        assert forged.status_code == missing.status_code == 400, url
        assert forged.json()[field] == [
            m.replace(str(theirs.pk + 10_000), str(theirs.pk)) for m in missing.json()[field]
        ]
        response = op_api.patch(url, {field: mine.pk}, format="json")
        assert response.status_code == 200 and response.json()[field] == mine.pk, url
    assert Network.objects.get(pk=network.pk).egress_translation == translation
    assert RoutingRule.objects.get(pk=rule.pk).schedule == schedule
    assert RoutingTarget.objects.get(pk=target.pk).schedule == schedule


@pytest.mark.django_db
def test_a_set_or_schedule_in_use_by_a_network_or_target_is_a_409(op_api, tenant):
    translation = TranslationSetFactory(tenant=tenant)
    NetworkFactory(tenant=tenant, egress_translation=translation, name="Yerevan")
    schedule = ScheduleFactory(tenant=tenant)
    RoutingTargetFactory(rule__tenant=tenant, schedule=schedule)
    for url in (
        f"/api/v1/translation-sets/{translation.pk}/",
        f"/api/v1/schedules/{schedule.pk}/",
    ):
        response = op_api.delete(url)
        assert response.status_code == 409
        assert "still used by" in response.json()["detail"]
    assert TranslationSet.objects.filter(pk=translation.pk).exists()
    assert Schedule.objects.filter(pk=schedule.pk).exists()
    assert (
        "Yerevan" in op_api.delete(f"/api/v1/translation-sets/{translation.pk}/").json()["detail"]
    )


@pytest.mark.django_db
def test_a_set_with_rules_goes_with_its_rules_when_unused(op_api, tenant):
    rule = TranslationRuleFactory(translation_set__tenant=tenant)
    response = op_api.delete(f"/api/v1/translation-sets/{rule.translation_set_id}/")
    assert response.status_code == 204
    assert not TranslationRule.objects.filter(pk=rule.pk).exists()


@pytest.mark.django_db
def test_a_routing_check_holds_a_calling_number(op_api, tenant):
    check = RoutingCheckFactory(trunk__customer__tenant=tenant)
    url = f"/api/v1/routing-checks/{check.pk}/"
    response = op_api.patch(url, {"calling_number": "+37410123456"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["calling_number"] == "+37410123456"
    for bad in ("3741O", "++374", "1" * 25, "٣٧٤"):
        response = op_api.patch(url, {"calling_number": bad}, format="json")
        assert response.status_code == 400 and "calling_number" in response.json(), bad
    check.refresh_from_db()
    assert check.calling_number == "+37410123456"


@pytest.mark.django_db
def test_trunk_list_query_count_does_not_grow_with_number_lists(op_api, tenant):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from vmgate.api_auth import token_cache

    def trunk():
        t = TrunkFactory(
            customer__tenant=tenant, ingress_translation=TranslationSetFactory(tenant=tenant)
        )
        TrunkNetworkFactory(trunk=t)
        t.number_lists.add(NumberListFactory(tenant=tenant), NumberListFactory(tenant=tenant))

    trunk()
    op_api.get("/api/v1/trunks/")
    token_cache.clear()
    with CaptureQueriesContext(connection) as one:
        op_api.get("/api/v1/trunks/")
    for _ in range(9):
        trunk()
    token_cache.clear()
    with CaptureQueriesContext(connection) as ten:
        response = op_api.get("/api/v1/trunks/")
    assert all(len(row["number_lists"]) == 2 for row in response.json()["results"])
    assert len(one) == len(ten)


# --- a race on one invariant -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_one_entry_store_it_once(tenant, operator):
    number_list = NumberListFactory(tenant=tenant, name="Premium")
    body = {"number_list": number_list.pk, "value": "1900", "match": "prefix"}
    calls = [
        partial(api_call, api_client(operator), "post", "/api/v1/number-list-entries/", body)
        for _ in range(RACERS)
    ]
    outcomes = fire_at_once(calls)
    assert_one_winner(outcomes, "This list already has this entry.")
    assert NumberListEntry.objects.filter(number_list=number_list).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_rules_at_one_position_store_one(tenant, operator):
    translation = TranslationSetFactory(tenant=tenant)
    calls = [
        partial(
            api_call,
            api_client(operator),
            "post",
            "/api/v1/translation-rules/",
            {
                "translation_set": translation.pk,
                "position": 1,
                "match": f"{i}([0-9]+)",
                "replace": "\\1",
            },
        )
        for i in range(RACERS)
    ]
    outcomes = fire_at_once(calls)
    assert_one_winner(outcomes, "This set already has a rule at this position.")
    assert TranslationRule.objects.filter(translation_set=translation).count() == 1
