"""Operator pages for Customers, Trunks, rate plans and their destinations (rates).

All views are the shared tenant-scoped bases of :mod:`vmgate.views`; list counts are
annotated with correlated subqueries (or, for a customer's trunks, a stored count) so a page
costs the same number of queries at 1 or 10,000 rows, and the paginator's COUNT never joins
or groups.
"""

import copy

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views import View
from django.views.decorators.http import require_GET

from customers import bulk
from customers.filtersets import (
    CustomerFilterSet,
    RateFilterSet,
    RatePlanFilterSet,
    TrunkFilterSet,
)
from customers.forms import BalanceEntryForm, CustomerForm, RateForm, RatePlanForm, TrunkForm
from customers.models import BalanceEntry, Customer, Rate, RatePlan, Trunk, TrunkNetwork, money
from customers.tables import CustomerTable, RatePlanTable, RateTable, TrunkTable
from dialpeers.models import Dialpeer
from routing.dialplan import label_for_code
from routing.models import RoutingRule
from vmgate.history import history_rows
from vmgate.tenancy import parse_pk, scoped
from vmgate.views import (
    TenantCreateView,
    TenantDeleteView,
    TenantDetailView,
    TenantListView,
    TenantMixin,
    TenantUpdateView,
)


def count_of(model, fk, **filters):
    """``COUNT(*)`` of ``model`` rows whose ``fk`` is the outer row, as a subquery (0 if none)."""
    qs = (
        model._default_manager.filter(**{fk: OuterRef("pk")}, **filters)
        .order_by()
        .values(fk)
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(qs, output_field=IntegerField()), Value(0))


# Customers -------------------------------------------------------------------------------


def customers_with_counts(tenant):
    # trunk_count is a stored column kept by triggers (customers/trunk_count.py): the list
    # sorts by it through an index instead of counting every customer's trunks.
    return scoped(Customer, tenant)


class CustomerListView(TenantListView):
    model = Customer
    table_class = CustomerTable
    filterset_class = CustomerFilterSet
    export_columns = bulk.CUSTOMER
    import_kind = "customers"

    def get_queryset(self):
        return customers_with_counts(self.tenant)

    def get_table_kwargs(self):
        return {**super().get_table_kwargs(), "currency": self.tenant.currency}


#: Entries shown per page of a customer's Balance tab.
BALANCE_PAGE = 50
CUSTOMER_TABS = ("details", "balance", "trunks", "history")


def balance_page(customer, before=None):
    """(entries newest first, id to pass as ``before`` for the next page or None): one page
    of the customer's Balance tab in one query, whatever the number of entries."""
    entries = customer.balance_entries.select_related("created_by").order_by("-id")
    if before is not None:
        entries = entries.filter(id__lt=before)
    rows = list(entries[: BALANCE_PAGE + 1])
    more = len(rows) > BALANCE_PAGE
    rows = rows[:BALANCE_PAGE]
    return rows, (rows[-1].pk if more else None)


class CustomerDetailView(TenantDetailView):
    model = Customer
    template_name = "customers/customer_detail.html"

    def get_queryset(self):
        return customers_with_counts(self.tenant)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        tab = self.request.GET.get("tab", "")
        before = parse_pk(self.request.GET.get("before", ""))
        ctx["active_tab"] = tab if tab in CUSTOMER_TABS else "details"
        ctx["entries"], ctx["older_entries"] = balance_page(self.object, before)
        ctx["entries_paged"] = before is not None
        ctx["call_refusals"] = self.object.call_refusals(self.tenant.currency)
        trunks = trunks_with_counts(scoped(Trunk, self.tenant)).filter(customer=self.object)
        ctx["trunk_table"] = TrunkTable(
            trunks.select_related("rate_plan", "customer"),
            request=self.request,
            exclude=("customer",),
            orderable=False,
        )
        # Each balance entry is a line of the customer's history ("Balance entry: Payment
        # +100.00 (ref. …)"), like a trunk's authorized IPs on the trunk's.
        ctx["history_rows"] = history_rows(
            self.object,
            currency=self.tenant.currency,
            children=[
                (
                    "balance entry",
                    BalanceEntry.history.filter(customer_id=self.object.pk),
                    "summary",
                )
            ],
        )
        ctx["delete_refusal"] = customer_delete_refusal(self.object)
        return ctx


class CustomerCreateView(TenantCreateView):
    model = Customer
    form_class = CustomerForm
    template_name = "customers/customer_form.html"
    submit_label = "Add Customer"

    def get_context_data(self, **kwargs):
        return super().get_context_data(title="Add Customer", **kwargs)


class CustomerUpdateView(TenantUpdateView):
    model = Customer
    form_class = CustomerForm
    template_name = "customers/customer_form.html"


def customer_delete_refusal(customer):
    n = customer.trunk_count
    if n:
        return (
            f"{customer.name} has {n} trunk{'s' if n != 1 else ''}; "
            "delete its trunks first (a customer with trunks cannot be deleted)."
        )
    return None


class CustomerDeleteView(TenantDeleteView):
    model = Customer

    def delete_refusal(self, obj):
        return customer_delete_refusal(obj)


class CustomerStatusView(TenantMixin, View):
    """POST: block or unblock a customer (configuration is kept; only new calls stop)."""

    model = Customer
    new_status = None

    def post(self, request, pk):
        self.require_write()
        customer = get_object_or_404(scoped(Customer, self.tenant), pk=pk)
        if customer.status != self.new_status:
            customer.status = self.new_status
            customer.save(update_fields=["status"])
            verb = "blocked" if self.new_status == Customer.BLOCKED else "unblocked"
            messages.success(request, f"Customer “{customer.name}” {verb}.")
        next_url = request.POST.get("next", "")
        if next_url.startswith("/") and not next_url.startswith("//"):
            return redirect(next_url)
        return redirect(reverse("customers:customer_list"))


# Balance entries -------------------------------------------------------------------------


class BalanceEntryCreateView(TenantMixin, View):
    """Record payment: the form (kind, amount, reference, note), then a confirmation showing
    the balance before → after, then the entry (which moves the balance atomically).

    Operators only: a viewer's GET or POST is a 403; another tenant's customer a 404."""

    model = BalanceEntry
    form_template = "customers/balance_entry_form.html"
    confirm_template = "customers/balance_entry_confirm.html"

    def dispatch(self, request, *args, **kwargs):
        self.customer = get_object_or_404(scoped(Customer, self.tenant), pk=kwargs["pk"])
        self.require_write()
        return super().dispatch(request, *args, **kwargs)

    def get_list_url(self):
        return self.customer.get_absolute_url() + "?tab=balance"

    def render_step(self, template, form, **extra):
        currency = self.tenant.currency
        context = {
            "form": form,
            "customer": self.customer,
            "currency": currency,
            "balance_now": money(self.customer.balance, currency),
            "list_url": self.get_list_url(),
            "can_write": True,
            "title": f"Record payment for {self.customer.name}",
            "breadcrumbs": [
                ("Home", reverse("home")),
                ("Customers", reverse("customers:customer_list")),
                (self.customer.name, self.customer.get_absolute_url()),
                ("Record payment", ""),
            ],
            **extra,
        }
        return render(self.request, template, context)

    def get(self, request, pk):
        return self.render_step(self.form_template, BalanceEntryForm(customer=self.customer))

    def post(self, request, pk):
        form = BalanceEntryForm(request.POST, customer=self.customer)
        if not form.is_valid() or "edit" in request.POST:
            return self.render_step(self.form_template, form)
        entry = form.instance
        if "confirm" not in request.POST:
            currency = self.tenant.currency
            after = copy.copy(self.customer)
            after.balance = self.customer.balance + entry.amount
            return self.render_step(
                self.confirm_template,
                form,
                entry=entry,
                amount=money(entry.amount, currency),
                balance_after=money(after.balance, currency),
                refusals_after=after.call_refusals(currency),
            )
        entry.created_by = request.user
        try:
            entry.save()
        except ValidationError as exc:
            # The balance would leave its range (another entry landed since the check).
            for field, errors in exc.message_dict.items():
                form.add_error(None if field == "__all__" else field, errors)
            return self.render_step(self.form_template, form)
        currency = self.tenant.currency
        messages.success(
            request,
            f"{entry.get_kind_display()} of {money(entry.amount, currency)} recorded for "
            f"“{self.customer.name}”: balance {money(entry.balance_before, currency)} → "
            f"{money(entry.balance_after, currency)}.",
        )
        return redirect(self.get_list_url())


# Trunks ----------------------------------------------------------------------------------


def trunks_with_counts(qs):
    return qs.annotate(
        ip_count=count_of(TrunkNetwork, "trunk"),
        dialpeer_count=count_of(Dialpeer, "trunk"),
        scoped_rule_count=count_of(RoutingRule, "trunk"),
    )


class TrunkListView(TenantListView):
    model = Trunk
    table_class = TrunkTable
    filterset_class = TrunkFilterSet
    export_columns = bulk.TRUNK
    import_kind = "trunks"
    export_related = ("customer", "rate_plan", "ingress_translation")
    export_prefetch = ("networks", "number_lists")
    add_label = "+ Add trunk"

    def get_queryset(self):
        return trunks_with_counts(scoped(Trunk, self.tenant)).select_related(
            "customer", "rate_plan"
        )


class TrunkDetailView(TenantDetailView):
    model = Trunk
    template_name = "customers/trunk_detail.html"

    def get_queryset(self):
        return trunks_with_counts(scoped(Trunk, self.tenant)).select_related(
            "customer", "rate_plan", "ingress_translation"
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        trunk = self.object
        ctx["networks"] = list(trunk.networks.order_by("network"))
        ctx["number_lists"] = list(trunk.number_lists.order_by("name", "id"))
        ctx["history_rows"] = history_rows(
            trunk,
            children=[
                (
                    "authorized IP",
                    TrunkNetwork.history.filter(trunk_id=trunk.pk),
                    "network",
                )
            ],
        )
        ctx["delete_refusal"] = trunk_delete_refusal(trunk)
        return ctx


class TrunkFormMixin:
    model = Trunk
    form_class = TrunkForm
    template_name = "customers/trunk_form.html"

    def get_initial(self):
        initial = super().get_initial()
        customer = self.request.GET.get("customer", "")
        if customer.isascii() and customer.isdigit():
            initial["customer"] = customer
        return initial


class TrunkCreateView(TrunkFormMixin, TenantCreateView):
    submit_label = "Add trunk"

    def get_context_data(self, **kwargs):
        return super().get_context_data(title="Add SIP Trunk", **kwargs)


class TrunkUpdateView(TrunkFormMixin, TenantUpdateView):
    pass


def trunk_delete_refusal(trunk):
    dialpeers = getattr(trunk, "dialpeer_count", None)
    rules = getattr(trunk, "scoped_rule_count", None)
    if dialpeers is None:
        dialpeers = trunk.dialpeers.count()
    if rules is None:
        rules = trunk.scoped_rules.count()
    uses = []
    if dialpeers:
        uses.append(f"{dialpeers} dialpeer{'s' if dialpeers != 1 else ''}")
    if rules:
        uses.append(f"{rules} routing rule{'s' if rules != 1 else ''} scoped to it")
    if uses:
        return f"Trunk “{trunk.name}” is used by {' and '.join(uses)}; remove those first."
    return None


class TrunkDeleteView(TenantDeleteView):
    model = Trunk

    def get_queryset(self):
        return trunks_with_counts(scoped(Trunk, self.tenant)).select_related("customer")

    def delete_refusal(self, obj):
        return trunk_delete_refusal(obj)


# Rate plans ------------------------------------------------------------------------------


def rateplans_with_counts(tenant):
    return scoped(RatePlan, tenant).annotate(
        rate_count=count_of(Rate, "rate_plan"), trunk_count=count_of(Trunk, "rate_plan")
    )


class RatePlanListView(TenantListView):
    model = RatePlan
    table_class = RatePlanTable
    filterset_class = RatePlanFilterSet
    export_columns = bulk.RATE_PLAN

    def get_queryset(self):
        return rateplans_with_counts(self.tenant)


class RatePlanDetailView(TenantDetailView):
    model = RatePlan
    template_name = "customers/rateplan_detail.html"

    def get_queryset(self):
        return rateplans_with_counts(self.tenant)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["trunks"] = list(
            self.object.trunks.select_related("customer").order_by("customer__name", "name")[:100]
        )
        ctx["history_rows"] = history_rows(self.object)
        ctx["delete_refusal"] = rateplan_delete_refusal(self.object)
        return ctx


class RatePlanCreateView(TenantCreateView):
    model = RatePlan
    form_class = RatePlanForm
    submit_label = "Add Plan"

    def get_context_data(self, **kwargs):
        return super().get_context_data(title="Add Plan", **kwargs)


class RatePlanUpdateView(TenantUpdateView):
    model = RatePlan
    form_class = RatePlanForm


def rateplan_delete_refusal(plan):
    n = getattr(plan, "trunk_count", None)
    if n is None:
        n = plan.trunks.count()
    if n:
        return (
            f"Rate plan “{plan.name}” is used by {n} trunk{'s' if n != 1 else ''}; "
            "give them another plan first."
        )
    return None


class RatePlanDeleteView(TenantDeleteView):
    model = RatePlan

    def get_queryset(self):
        return rateplans_with_counts(self.tenant)

    def delete_refusal(self, obj):
        return rateplan_delete_refusal(obj)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        n = self.object.rate_count
        ctx["delete_note"] = (
            f"This deletes the plan and its {n} destination{'s' if n != 1 else ''}."
        )
        return ctx


# Rates (destinations of a plan) ------------------------------------------------------------


class PlanMixin:
    """Views nested under one rate plan (``plan_pk``), or reaching it through the rate."""

    @cached_property
    def plan(self):
        if "plan_pk" in self.kwargs:
            return get_object_or_404(scoped(RatePlan, self.tenant), pk=self.kwargs["plan_pk"])
        obj = getattr(self, "object", None) or self.get_object()
        return obj.rate_plan

    def get_list_url(self):
        return reverse("customers:rate_list", args=[self.plan.pk])

    def get_breadcrumb_parents(self):
        return [
            ("Rate plans", reverse("customers:rateplan_list")),
            (self.plan.name, self.plan.get_absolute_url()),
            ("Destinations", self.get_list_url()),
        ]

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["plan"] = self.plan
        return ctx


class RateListView(PlanMixin, TenantListView):
    model = Rate
    table_class = RateTable
    filterset_class = RateFilterSet
    export_columns = bulk.RATE
    import_kind = "rates"

    def import_url(self):
        return f"{super().import_url()}?rate_plan={self.plan.pk}"

    template_name = "customers/rate_list.html"
    add_label = "+ Add destination"
    list_noun, list_noun_plural = "destination", "destinations"

    @cached_property
    def now(self):
        return timezone.now()

    def plan_rates(self):
        return scoped(Rate, self.tenant).filter(rate_plan=self.plan)

    def get_queryset(self):
        # The page's keys come from the window query (sorting and "valid at" need it over
        # the whole plan); its rows then get valid-to/status by index lookups (page_rows).
        return self.plan_rates().with_validity(self.now)

    def page_rows(self, pks):
        return self.plan_rates().filter(pk__in=pks).with_validity(self.now, window=False)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["add_url"] = reverse("customers:rate_add", args=[self.plan.pk])
        ctx["verbose_name_plural"] = f"Destinations of {self.plan.name}"
        return ctx


class RateObjectMixin(PlanMixin):
    model = Rate

    def get_queryset(self):
        return scoped(Rate, self.tenant).select_related("rate_plan").with_validity(window=False)


class RateDetailView(RateObjectMixin, TenantDetailView):
    template_name = "customers/rate_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["history_rows"] = history_rows(self.object)
        return ctx


class RateFormMixin:
    form_class = RateForm
    template_name = "generic/object_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "rate_plan": self.plan}

    def get_success_url(self):
        return self.get_list_url()


class RateCreateView(RateFormMixin, PlanMixin, TenantCreateView):
    model = Rate
    submit_label = "Add Destination"

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=f"Add Destination to {self.plan.name}", **kwargs)


class RateUpdateView(RateFormMixin, RateObjectMixin, TenantUpdateView):
    def get_queryset(self):
        return scoped(Rate, self.tenant).select_related("rate_plan")


class RateDeleteView(RateObjectMixin, TenantDeleteView):
    def get_queryset(self):
        return scoped(Rate, self.tenant).select_related("rate_plan")


@require_GET
def rate_describe(request):
    """htmx: the description field, filled from the dialplan for ``?code=`` when it is empty
    or still holds the previous automatic fill (a typed description is kept)."""
    code = request.GET.get("code", "").strip()
    description = request.GET.get("description", "")
    auto = request.GET.get("description_auto", "")
    filled = description
    if not description.strip() or description == auto:
        filled = label_for_code(code) if (code == "" or code.isascii() and code.isdigit()) else ""
        filled = filled or description
        auto = filled
    return render(
        request,
        "customers/_rate_description.html",
        {"value": filled[:200], "auto": auto[:200]},
    )
