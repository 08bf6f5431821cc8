"""Routing checks: saved test calls (ingress + number → expected outcome, reason, rule)
that re-run on demand, from the list page and from ``manage.py run_routing_checks``.

A check runs through ``route_call(..., explain=True)`` — the same decision as live traffic,
but it never advances the round-robin of priority rules.
"""

import django_tables2 as tables
from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from customers.models import Trunk
from routing.dialplan import TYPED_SEPARATORS
from routing.engine import REASON_LABELS, SIP_ANSWERS, route_call
from routing.filtersets import RoutingCheckFilterSet
from routing.models import RoutingCheck, RoutingRule
from vmgate.forms import TenantModelForm
from vmgate.tables import ActionsColumn, PagedTable, RowAction
from vmgate.tenancy import scoped
from vmgate.views import TenantCreateView, TenantDeleteView, TenantListView, TenantUpdateView
from vmgate.widgets import SearchSelect

# --- running -------------------------------------------------------------------------------


def decide(check):
    return route_call(
        check.tenant,
        called_number=check.called_number,
        trunk=check.trunk if check.trunk_id else None,
        source_ip=check.source_ip or None,
        at=check.at,
        explain=True,
    )


def differences(check, decision):
    """What differs between the check's expectation and ``decision`` (empty: pass)."""
    out = []
    if decision.outcome != check.expected_outcome:
        out.append(
            f"outcome: expected {check.expected_outcome}, got {decision.outcome} "
            f"({REASON_LABELS.get(decision.reason, decision.reason)})"
        )
    elif check.expected_reason and decision.reason != check.expected_reason:
        out.append(
            f"reason: expected {REASON_LABELS.get(check.expected_reason, check.expected_reason)}"
            f", got {REASON_LABELS.get(decision.reason, decision.reason)}"
        )
    if check.expected_rule_id and (
        decision.rule is None or decision.rule.id != check.expected_rule_id
    ):
        got = decision.rule.display if decision.rule else "no rule"
        out.append(f"rule: expected {check.expected_rule}, got {got}")
    return out


def record_result(check, decision):
    """Store the outcome of one run on the check (without a history record: a run is not an
    edit of the check)."""
    diffs = differences(check, decision)
    check.last_passed = not diffs
    check.last_result = {
        "outcome": decision.outcome,
        "reason": decision.reason,
        "sip_code": decision.sip_code,
        "summary": decision.summary,
        "rule": {"id": decision.rule.id, "name": decision.rule.display} if decision.rule else None,
        "dialpeer": (
            {"id": decision.dialpeer.id, "name": decision.dialpeer.name}
            if decision.dialpeer
            else None
        ),
        "trunk": {"id": decision.trunk.id, "name": decision.trunk.name} if decision.trunk else None,
        "differences": diffs,
    }
    check.last_run_at = timezone.now()
    check.skip_history_when_saving = True
    try:
        check.save(update_fields=["last_passed", "last_result", "last_run_at"])
    finally:
        del check.skip_history_when_saving
    return check


def run_check(check):
    return record_result(check, decide(check))


def checks_queryset(qs):
    return qs.select_related(
        "tenant", "trunk__customer", "expected_rule__trunk__customer"
    ).order_by("name", "id")


def run_checks(qs):
    """Run every check of ``qs``; returns them with their fresh results."""
    return [run_check(check) for check in checks_queryset(qs)]


# --- pages ---------------------------------------------------------------------------------

OUTCOME_CHOICES = [("routed", "Routed"), ("rejected", "Rejected")]
REASON_CHOICES = [("", "Any reason")] + [
    (reason, f"{label} ({SIP_ANSWERS[reason][0] or 'no reply'})")
    for reason, label in REASON_LABELS.items()
]


class RoutingCheckForm(TenantModelForm):
    trunk = forms.ModelChoiceField(
        queryset=Trunk.objects.all(),
        required=False,
        label="SIP trunk (ingress)",
        widget=SearchSelect("customers:trunk_options", placeholder="Search trunks…"),
    )
    expected_reason = forms.ChoiceField(choices=REASON_CHOICES, required=False)
    expected_rule = forms.ModelChoiceField(
        queryset=RoutingRule.objects.all(),
        required=False,
        label="Expected rule",
        widget=SearchSelect(
            "routing:rule_options",
            params={"all": "1"},
            placeholder="Search by prefix or label…",
        ),
        help_text="Empty: any rule.",
    )

    class Meta:
        model = RoutingCheck
        fields = [
            "name",
            "trunk",
            "source_ip",
            "called_number",
            "at",
            "expected_outcome",
            "expected_reason",
            "expected_rule",
        ]
        help_texts = {
            "source_ip": "Instead of a trunk: the address the INVITE comes from.",
            "called_number": "As it arrives, with the tech prefix.",
            "at": "Empty: the time of each run.",
        }

    def clean_source_ip(self):
        # Empty is NULL, not "": the database constraint counts a non-NULL address.
        return self.cleaned_data["source_ip"] or None

    def clean_called_number(self):
        value = self.cleaned_data["called_number"]
        return TYPED_SEPARATORS.sub("", value)


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
        from routing.testcall import prefill_url

        test_call = prefill_url(
            trunk=record.trunk,
            source_ip=record.source_ip or "",
            called_number=record.called_number,
            at=record.at,
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


class RoutingCheckListFilterSet(RoutingCheckFilterSet):
    """The model's FilterSet (shared with the API) without its trunk select, which would
    render every trunk of the tenant; the search box finds checks by name or number."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters.pop("trunk", None)
        self.filters["last_passed"].field.widget = forms.Select(
            choices=[("", "Any result"), ("true", "Pass"), ("false", "Fail")]
        )


class RoutingCheckListView(TenantListView):
    model = RoutingCheck
    table_class = RoutingCheckTable
    filterset_class = RoutingCheckListFilterSet
    template_name = "routing/routingcheck_list.html"

    def get_base_queryset(self):
        return checks_queryset(super().get_base_queryset())

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        qs = scoped(RoutingCheck, self.tenant)
        ctx["n_checks"] = qs.count()
        ctx["n_failed"] = qs.filter(last_passed=False).count()
        ctx["add_label"] = "+ Add check"
        return ctx


class RoutingCheckCreateView(TenantCreateView):
    model = RoutingCheck
    form_class = RoutingCheckForm


class RoutingCheckUpdateView(TenantUpdateView):
    model = RoutingCheck
    form_class = RoutingCheckForm

    def get_queryset(self):
        return super().get_queryset().select_related("trunk", "expected_rule__trunk__customer")


class RoutingCheckDeleteView(TenantDeleteView):
    model = RoutingCheck


def _require_operator(request):
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    if getattr(request, "tenant", None) is None:
        raise Http404("No tenant for this login")
    membership = getattr(request, "membership", None)
    if membership is None or not membership.can_write:
        raise PermissionDenied("Viewers have read-only access.")
    return request.tenant


@require_POST
def run_one(request, pk):
    tenant = _require_operator(request)
    check = get_object_or_404(checks_queryset(scoped(RoutingCheck, tenant)), pk=pk)
    run_check(check)
    if check.last_passed:
        messages.success(request, f"Check “{check.name}” passed.")
    else:
        diffs = "; ".join(check.last_result["differences"])
        messages.error(request, f"Check “{check.name}” failed: {diffs}.")
    return redirect(reverse("routing:routingcheck_list"))


@require_POST
def run_all(request):
    tenant = _require_operator(request)
    results = run_checks(scoped(RoutingCheck, tenant))
    failed = [c for c in results if not c.last_passed]
    text = (
        f"Ran {len(results)} check(s): {len(results) - len(failed)} passed, {len(failed)} failed."
    )
    (messages.error if failed else messages.success)(request, text)
    return redirect(reverse("routing:routingcheck_list"))
