"""The routing checks list table."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from routing.engine import REASON_LABELS
from routing.models import RoutingCheck
from routing.testcall import prefill_url
from vmgate.tables import ActionsColumn, PagedTable, RowAction


def _ingress(record):
    if record.trunk_id:
        return format_html(
            '<a href="{}">{}</a>', record.trunk.get_absolute_url(), str(record.trunk)
        )
    return format_html('<span class="font-monospace">{}</span>', record.source_ip)


def _expected(record):
    text = record.expected_outcome
    if record.expected_reason and record.expected_reason != "routed":
        text += f" · {REASON_LABELS.get(record.expected_reason, record.expected_reason)}"
    if record.expected_rule_id:
        text += f" · {record.expected_rule}"
    return text


class RoutingCheckTable(PagedTable):
    # Long texts wrap (td.wrap) so the table fits a 1400 px screen.
    name = tables.Column(attrs={"td": {"class": "wrap"}})
    ingress = tables.Column(empty_values=(), orderable=False, attrs={"td": {"class": "wrap"}})
    called_number = tables.Column(
        verbose_name="Called number", attrs={"td": {"class": "font-monospace"}}
    )
    expected = tables.Column(empty_values=(), orderable=False, attrs={"td": {"class": "wrap"}})
    last_passed = tables.Column(verbose_name="Last result", empty_values=())
    got = tables.Column(
        empty_values=(),
        orderable=False,
        verbose_name="Got · what differed",
        attrs={"td": {"class": "wrap wide"}},
    )
    last_run_at = tables.DateTimeColumn(verbose_name="Ran", format="Y-m-d H:i")
    actions = ActionsColumn()

    class Meta:
        model = RoutingCheck
        fields = ["name", "called_number", "last_passed", "last_run_at"]
        sequence = [
            "name",
            "ingress",
            "called_number",
            "expected",
            "last_passed",
            "got",
            "last_run_at",
        ]
        order_by = ["name"]
        empty_text = "No routing checks yet. Run a test call and press “Save as check”."
        attrs = {"class": "table table-sm align-middle"}

    def render_ingress(self, record):
        return _ingress(record)

    def render_expected(self, record):
        return _expected(record)

    def render_last_passed(self, record):
        if record.last_passed is None:
            return format_html('<span class="badge text-bg-secondary">{}</span>', "not run")
        if record.last_passed:
            return format_html('<span class="badge text-bg-success">{}</span>', "pass")
        return format_html('<span class="badge text-bg-danger">{}</span>', "fail")

    def render_got(self, record):
        result = record.last_result or {}
        diffs = result.get("differences") or []
        if diffs:
            return format_html_join(
                "", '<div class="text-danger small">{}</div>', ((d,) for d in diffs)
            )
        return result.get("summary", "—")

    def get_row_actions(self, record):
        test_call = prefill_url(
            trunk=record.trunk,
            source_ip=record.source_ip or "",
            called_number=record.called_number,
            at=record.at,
            calling_number=record.calling_number,
        )
        return [
            RowAction("Test a call", test_call),
            RowAction("Run", reverse("routing:routingcheck_run", args=[record.pk]), post=True),
            RowAction("Edit", reverse("routing:routingcheck_edit", args=[record.pk])),
            RowAction(
                "Delete",
                reverse("routing:routingcheck_delete", args=[record.pk]),
                danger=True,
            ),
        ]
