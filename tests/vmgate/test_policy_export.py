"""The translation sets and schedules lists export their rules and windows beside their own
rows (``?export=rules`` / ``?export=windows``, buttons beside *Export CSV*), in their
import kinds' columns: such an export imports back as a no-op, filtered like the list."""

from datetime import time

import pytest
from django.urls import reverse

from routing.models import ScheduleWindow, TranslationRule
from tests.factories import (
    ScheduleFactory,
    ScheduleWindowFactory,
    TranslationRuleFactory,
    TranslationSetFactory,
)
from tests.vmgate.test_import import export
from vmgate.import_kinds import KINDS
from vmgate.imports import run_import

pytestmark = pytest.mark.django_db


def policy(tenant):
    national = TranslationSetFactory(tenant=tenant, name="National")
    TranslationRuleFactory(translation_set=national, position=1, match="00([0-9]+)", replace=r"\1")
    TranslationRuleFactory(
        translation_set=national, position=2, match="0([0-9]+)", replace=r"374\1", stop=False
    )
    other = TranslationSetFactory(tenant=tenant, name="Other")
    TranslationRuleFactory(translation_set=other, position=1, match="9", replace="8")
    office = ScheduleFactory(tenant=tenant, name="Office", timezone="Asia/Yerevan")
    ScheduleWindowFactory(schedule=office, weekdays=[1, 2, 3, 4, 5], start=time(9), end=time(18))
    ScheduleWindowFactory(schedule=office, weekdays=[6], start=time(22), end=time(2, 0, 30))
    return national, office


@pytest.mark.parametrize(
    ("list_name", "param", "kind", "model"),
    [
        ("routing:translationset_list", "rules", "translation_rules", TranslationRule),
        ("routing:schedule_list", "windows", "schedule_windows", ScheduleWindow),
    ],
)
def test_a_lists_child_export_imports_back_as_a_no_op(
    op_client, tenant, operator, list_name, param, kind, model
):
    policy(tenant)
    page = op_client.get(reverse(list_name)).content.decode()
    assert f"export={param}" in page  # the button beside Export CSV
    data = export(op_client, reverse(list_name), param)
    rows = list(model.objects.order_by("pk").values())
    for mode in ("update", "replace"):
        result = run_import(tenant, KINDS[kind], f"{kind}.csv", data, mode=mode, apply=True)
        assert result.ok, (result.file_error, result.errors)
        assert result.counts["create"] == result.counts["delete"] == 0
        assert result.counts["unchanged"] == len(rows)
    assert list(model.objects.order_by("pk").values()) == rows


def test_the_child_export_follows_the_lists_filter(op_client, tenant):
    policy(tenant)
    response = op_client.get(
        reverse("routing:translationset_list"), {"q": "nation", "export": "rules"}
    )
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == "translation_set,position,match,replace,stop"
    assert [line.split(",")[0] for line in lines[1:]] == ["National", "National"]
    windows = export(op_client, reverse("routing:schedule_list"), "windows").decode("utf-8-sig")
    assert "Office,Asia/Yerevan,1 2 3 4 5,09:00,18:00" in windows
    assert "Office,Asia/Yerevan,6,22:00,02:00:30" in windows


def test_trunks_export_and_import_their_translation_and_lists_by_name(op_client, tenant, operator):
    from customers.models import Trunk, TrunkNumberList
    from tests.factories import (
        CustomerFactory,
        NumberListFactory,
        TrunkFactory,
        TrunkNetworkFactory,
    )

    national, _ = policy(tenant)
    premium = NumberListFactory(tenant=tenant, name="Premium ranges")
    callers = NumberListFactory(tenant=tenant, name="Barred callers", applies_to="calling")
    trunk = TrunkFactory(
        customer=CustomerFactory(tenant=tenant, name="Carrier"),
        name="sbc-1",
        ingress_translation=national,
    )
    TrunkNumberList.objects.create(trunk=trunk, number_list=premium)
    TrunkNumberList.objects.create(trunk=trunk, number_list=callers)
    other = TrunkFactory(customer=trunk.customer, name="sbc-2")
    TrunkNetworkFactory(trunk=trunk, network="203.0.113.10/32")
    TrunkNetworkFactory(trunk=other, network="203.0.113.11/32")
    data = export(op_client, reverse("customers:trunk_list"))
    text = data.decode("utf-8-sig")
    assert "ingress_translation,number_lists" in text.splitlines()[0]
    assert "National,Barred callers; Premium ranges" in text
    result = run_import(tenant, KINDS["trunks"], "trunks.csv", data, apply=True)
    assert result.ok, (result.file_error, result.errors)
    assert result.counts["unchanged"] == 2 and result.counts["update"] == 0

    edited = text.replace("National,Barred callers; Premium ranges", "Other,Premium ranges")
    result = run_import(tenant, KINDS["trunks"], "trunks.csv", edited.encode(), apply=True)
    assert result.ok, (result.file_error, result.errors)
    assert result.counts["update"] == 1
    trunk = Trunk.objects.get(pk=trunk.pk)
    assert trunk.ingress_translation.name == "Other"
    assert [nl.name for nl in trunk.number_lists.all()] == ["Premium ranges"]

    unknown = text.replace("National,Barred callers; Premium ranges", "Nope,Premium; Ghost")
    result = run_import(tenant, KINDS["trunks"], "trunks.csv", unknown.encode(), apply=True)
    assert not result.ok
    messages = {(column, message) for _, column, message in result.errors}
    assert ("ingress_translation", "Translation set “Nope” not found.") in messages
    assert ("number_lists", "Number list “Ghost” not found.") in messages
    assert Trunk.objects.get(pk=trunk.pk).ingress_translation.name == "Other"

    # a file without the two columns keeps what the trunks have
    short = f"customer,name,tech_prefix\nCarrier,sbc-1,{trunk.tech_prefix}\n"
    result = run_import(tenant, KINDS["trunks"], "trunks.csv", short.encode(), apply=True)
    assert result.ok and result.counts["unchanged"] == 1
    assert Trunk.objects.get(pk=trunk.pk).number_lists.count() == 1
