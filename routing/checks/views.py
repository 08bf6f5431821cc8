"""The routing checks pages: list, add, edit, delete, run one, run all."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from routing.bulk import ROUTING_CHECK
from routing.checks.filtersets import RoutingCheckListFilterSet
from routing.checks.forms import RoutingCheckForm
from routing.checks.running import checks_queryset, run_check, run_checks
from routing.checks.tables import RoutingCheckTable
from routing.models import RoutingCheck
from vmgate.tenancy import require_operator, scoped
from vmgate.views import TenantCreateView, TenantDeleteView, TenantListView, TenantUpdateView


class RoutingCheckListView(TenantListView):
    model = RoutingCheck
    table_class = RoutingCheckTable
    filterset_class = RoutingCheckListFilterSet
    export_columns = ROUTING_CHECK
    export_related = ("trunk__customer", "expected_rule")
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


@require_POST
def run_one(request, pk):
    tenant = require_operator(request)
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
    tenant = require_operator(request)
    results = run_checks(scoped(RoutingCheck, tenant))
    failed = [c for c in results if not c.last_passed]
    text = (
        f"Ran {len(results)} check(s): {len(results) - len(failed)} passed, {len(failed)} failed."
    )
    (messages.error if failed else messages.success)(request, text)
    return redirect(reverse("routing:routingcheck_list"))
