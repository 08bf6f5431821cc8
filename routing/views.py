"""Operator pages: networks, VMGateClients (with SIM slots), routing rules and their targets.

Lists and edit pages use the shared bases (vmgate/views.py). The targets page is one page of
small row forms: each row saves, and rows are added and removed, through htmx without
leaving the page (plain POSTs work too and redirect back).
"""

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.views import View

from routing import bulk
from routing.dialplan import label_for_code
from routing.filtersets import NetworkFilterSet, RoutingRuleFilterSet, VMGateClientFilterSet
from routing.forms import (
    KIND_FIELDS,
    NetworkForm,
    RoutingRuleForm,
    RoutingTargetForm,
    SimSlotFormSet,
    VMGateClientForm,
)
from routing.models import Network, RoutingRule, RoutingTarget, VMGateClient
from routing.queries import annotate_clients, annotate_networks, annotate_rules
from routing.tables import NetworkTable, RoutingRuleTable, VMGateClientTable
from vmgate.history import history_rows
from vmgate.tenancy import scoped, tenant_or_404
from vmgate.views import (
    ChildExport,
    TenantCreateView,
    TenantDeleteView,
    TenantDetailView,
    TenantFormMixin,
    TenantListView,
    TenantMixin,
    TenantUpdateView,
)


def _history(obj):
    """The shared History rows (vmgate/history.py)."""
    return history_rows(obj, limit=50)


# Networks ------------------------------------------------------------------------------


class NetworkListView(TenantListView):
    model = Network
    table_class = NetworkTable
    filterset_class = NetworkFilterSet
    export_columns = bulk.NETWORK
    import_kind = "networks"

    def page_rows(self, pks):
        return annotate_networks(self.get_base_queryset().filter(pk__in=pks))


class NetworkDetailView(TenantDetailView):
    model = Network
    template_name = "routing/network_detail.html"

    def get_queryset(self):
        return annotate_networks(super().get_queryset()).select_related("egress_translation")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["history"] = _history(self.object)
        return ctx


class NetworkCreateView(TenantCreateView):
    model = Network
    form_class = NetworkForm


class NetworkUpdateView(TenantUpdateView):
    model = Network
    form_class = NetworkForm


class NetworkDeleteView(TenantDeleteView):
    model = Network

    def delete_refusal(self, obj):
        clients = obj.clients.count()
        targets = obj.targets.count()
        if clients or targets:
            return (
                f"Network “{obj}” is used by {clients} VMGateClient(s) and {targets} routing "
                "target(s); move or delete them first."
            )
        return None


# VMGateClients -------------------------------------------------------------------------


class VMGateClientListView(TenantListView):
    model = VMGateClient
    table_class = VMGateClientTable
    filterset_class = VMGateClientFilterSet
    export_columns = bulk.CLIENT
    import_kind = "clients"
    export_related = ("network",)
    export_prefetch = ("slots",)
    add_label = "+ Add VMGateClient"

    def page_rows(self, pks):
        return annotate_clients(self.get_base_queryset().filter(pk__in=pks))


class VMGateClientDetailView(TenantDetailView):
    model = VMGateClient
    template_name = "routing/vmgateclient_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("network")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["slots"] = list(self.object.slots.all())
        ctx["history"] = _history(self.object)
        return ctx


class ClientSlotsMixin:
    """The client form with its SIM slots edited in the same page (an inline formset)."""

    template_name = "routing/vmgateclient_form.html"

    def get_formset(self, instance):
        if not hasattr(self, "_formset"):
            data = self.request.POST if self.request.method == "POST" else None
            extra = 0 if instance.pk else 2
            formset_class = type(SimSlotFormSet)(
                "SimSlotFormSet", (SimSlotFormSet,), {"extra": extra}
            )
            initial = [] if instance.pk else [{"position": 1}, {"position": 2}]
            self._formset = formset_class(data, instance=instance, prefix="slots", initial=initial)
        return self._formset

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["formset"] = self.get_formset(ctx["form"].instance)
        return ctx

    def form_valid(self, form):
        formset = self.get_formset(form.instance)
        if not formset.is_valid():
            return self.form_invalid(form)
        try:
            with transaction.atomic():
                self.object = form.save()
                formset.instance = self.object
                formset.save()
        except IntegrityError:
            form.add_error(None, "This change conflicts with one just saved by someone else.")
            return self.form_invalid(form)
        messages.success(self.request, f"VMGateClient “{self.object}” saved.")
        return redirect(self.get_success_url())


class VMGateClientCreateView(ClientSlotsMixin, TenantCreateView):
    model = VMGateClient
    form_class = VMGateClientForm


class VMGateClientUpdateView(ClientSlotsMixin, TenantUpdateView):
    model = VMGateClient
    form_class = VMGateClientForm


def _rule_links(rules):
    return format_html_join(
        ", ", '<a href="{}">{}</a>', ((r.get_absolute_url(), str(r)) for r in rules)
    )


class VMGateClientDeleteView(TenantDeleteView):
    model = VMGateClient

    def delete_refusal(self, obj):
        targets = RoutingTarget.objects.filter(client=obj) | RoutingTarget.objects.filter(
            sim_slot__client=obj
        )
        rule_ids = targets.values("rule_id")
        rules = list(RoutingRule.objects.filter(pk__in=rule_ids).order_by("code", "id")[:5])
        if rules:
            return format_html(
                "VMGateClient “{}” (or one of its SIM slots) is a target of routing rules: {}. "
                "Remove those targets first.",
                obj,
                _rule_links(rules),
            )
        return None


# Routing rules -------------------------------------------------------------------------


class RoutingRuleListView(TenantListView):
    model = RoutingRule
    table_class = RoutingRuleTable
    filterset_class = RoutingRuleFilterSet
    export_columns = bulk.RULE
    import_kind = "rules"
    export_related = ("trunk__customer",)
    child_exports = (
        ChildExport(
            "targets",
            "routing targets",
            bulk.TARGET,
            lambda rules: (
                RoutingTarget.objects.filter(rule__in=rules)
                .select_related("rule__trunk__customer", "network", "client", "sim_slot__client")
                .order_by("rule__code", "rule_id", "priority", "id")
            ),
            ("Export targets CSV", "export-targets-csv"),
            "targets",
            "Import targets",
        ),
    )

    def page_rows(self, pks):
        return annotate_rules(self.get_base_queryset().filter(pk__in=pks))


class RoutingRuleDetailView(TenantDetailView):
    model = RoutingRule
    template_name = "routing/routingrule_detail.html"

    def get_queryset(self):
        return annotate_rules(super().get_queryset()).select_related("schedule")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        rule = self.object
        ctx["targets"] = list(
            rule.targets.select_related(
                "network", "client", "sim_slot__client", "schedule"
            ).order_by("priority", "id")
        )
        ctx["dialpeers"] = list(
            rule.dialpeers.select_related("customer", "trunk").order_by("name", "id")
        )
        ctx["history"] = _history(rule)
        return ctx


class RuleFormMixin:
    model = RoutingRule
    form_class = RoutingRuleForm
    template_name = "routing/routingrule_form.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        form = ctx["form"]
        if form.is_bound:
            ctx["label_auto"] = form.data.get("label_auto", "")
        else:
            ctx["label_auto"] = label_for_code(form.instance.code) if form.instance.pk else ""
        return ctx


class RoutingRuleCreateView(RuleFormMixin, TenantCreateView):
    def get_success_url(self):
        # A new rule carries no traffic until it has targets: go there next.
        return reverse("routing:routingrule_targets", args=[self.object.pk])


class RoutingRuleUpdateView(RuleFormMixin, TenantUpdateView):
    pass


class RoutingRuleDeleteView(TenantDeleteView):
    model = RoutingRule

    def delete_refusal(self, obj):
        dialpeers = list(obj.dialpeers.order_by("name", "id")[:20])
        if not dialpeers:
            return None
        links = format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            ((d.get_absolute_url() or "#", d.name) for d in dialpeers),
        )
        return format_html(
            "Rule {} cannot be removed while dialpeers link it: {}. Remove those dialpeers first.",
            obj,
            links,
        )


def label_field(request):
    """htmx: the Label field re-rendered after the Code field lost focus.

    The dialplan label replaces the label only while it is empty or still the previous
    automatic one, so a label the operator typed is never overwritten.
    """
    code = request.GET.get("code", "").strip()
    label = request.GET.get("label", "")
    previous_auto = request.GET.get("label_auto", "")
    auto = label_for_code(code) if len(code) <= 15 else ""
    value = auto if (not label.strip() or label == previous_auto) else label
    form = RoutingRuleForm(tenant=tenant_or_404(request), initial={"label": value})
    return render(request, "routing/_rule_label_field.html", {"form": form, "label_auto": auto})


# Targets of a rule ---------------------------------------------------------------------


def _rule_of(request, pk):
    return get_object_or_404(annotate_rules(scoped(RoutingRule, tenant_or_404(request))), pk=pk)


def _targets(rule):
    return list(
        rule.targets.select_related("network", "client", "sim_slot__client", "schedule").order_by(
            "priority", "id"
        )
    )


def _row_form(request, rule, target=None, data=None):
    tenant = tenant_or_404(request)
    prefix = f"t{target.pk}" if target is not None else "new"
    instance = target if target is not None else RoutingTarget(rule=rule)
    return RoutingTargetForm(data, tenant=tenant, rule=rule, instance=instance, prefix=prefix)


def _status_oob(request, rule_pk):
    """The rule's traffic banner, re-read, for an htmx out-of-band swap."""
    rule = _rule_of(request, rule_pk)
    context = {"rule": rule, "oob": True}
    return render(request, "routing/_rule_status.html", context).content.decode()


def _row_response(request, rule, forms, *, status=200):
    html = "".join(
        render(
            request, "routing/_target_row.html", {"form": f, "rule": rule, "target": t}
        ).content.decode()
        for f, t in forms
    )
    html += _status_oob(request, rule.pk)
    return HttpResponse(html, status=status)


class RuleTargetsView(TenantMixin, View):
    """The targets page of one rule (GET)."""

    model = RoutingTarget

    def get(self, request, pk):
        rule = _rule_of(request, pk)
        return self.render_page(rule)

    def render_page(self, rule, add_form=None, status=200):
        request = self.request
        rows = [(_row_form(request, rule, t), t) for t in _targets(rule)]
        if add_form is None:
            add_form = _row_form(request, rule)
        return render(
            request,
            "routing/routingrule_targets.html",
            {
                "rule": rule,
                "object": rule,
                "rows": rows,
                "targets": [t for _, t in rows],
                "add_form": add_form,
                "can_write": self.can_write,
                "list_url": reverse("routing:routingrule_list"),
                "breadcrumbs": _rule_crumbs(rule, ("Targets", "")),
            },
            status=status,
        )


class TargetAddView(TenantFormMixin, RuleTargetsView):
    """POST a new target row. htmx gets the saved row plus a fresh empty add row."""

    def post(self, request, pk):
        rule = _rule_of(request, pk)
        form = _row_form(request, rule, data=request.POST)
        saved = form.is_valid() and _save(form)
        if request.htmx:
            if not saved:
                return _row_response(request, rule, [(form, None)])
            return _row_response(
                request,
                rule,
                [(_row_form(request, rule, saved), saved), (_row_form(request, rule), None)],
            )
        if not saved:
            return self.render_page(rule, add_form=form, status=200)
        messages.success(request, f"Target “{saved.target}” added.")
        return redirect("routing:routingrule_targets", pk=rule.pk)


def _rule_crumbs(rule, *tail):
    """Home › Routing rules › the rule › … for the pages under one rule."""
    return [
        ("Home", reverse("home")),
        ("Routing rules", reverse("routing:routingrule_list")),
        (str(rule), rule.get_absolute_url()),
        *tail,
    ]


def _save(form):
    try:
        with transaction.atomic():
            return form.save()
    except IntegrityError:
        form.add_error(None, "This change conflicts with one just saved by someone else.")
        return None


def _target_or_404(request, pk):
    qs = scoped(RoutingTarget, tenant_or_404(request)).select_related(
        "network", "client", "sim_slot__client", "schedule"
    )
    return get_object_or_404(qs, pk=pk)


class TargetEditView(TenantFormMixin, RuleTargetsView):
    """One target row: GET shows the rule's targets page, POST saves the row."""

    def get(self, request, pk):
        target = _target_or_404(request, pk)
        rule = _rule_of(request, target.rule_id)
        if request.htmx:
            return _row_response(request, rule, [(_row_form(request, rule, target), target)])
        return self.render_page(rule)

    def post(self, request, pk):
        target = _target_or_404(request, pk)
        rule = _rule_of(request, target.rule_id)
        form = _row_form(request, rule, target, data=request.POST)
        saved = form.is_valid() and _save(form)
        if request.htmx:
            if saved:
                form = _row_form(request, rule, saved)
            return _row_response(request, rule, [(form, target)])
        if not saved:
            messages.error(request, "; ".join(_errors(form)))
            return redirect("routing:routingrule_targets", pk=rule.pk)
        messages.success(request, f"Target “{saved.target}” saved.")
        return redirect("routing:routingrule_targets", pk=rule.pk)


def _errors(form):
    return [str(e) for errs in form.errors.values() for e in errs]


class TargetDeleteView(TenantFormMixin, View):
    model = RoutingTarget

    def get(self, request, pk):
        target = _target_or_404(request, pk)
        return render(
            request,
            "generic/object_confirm_delete.html",
            {
                "object": target,
                "verbose_name": "target",
                "list_url": reverse("routing:routingrule_targets", args=[target.rule_id]),
                "breadcrumbs": _rule_crumbs(
                    target.rule,
                    ("Targets", reverse("routing:routingrule_targets", args=[target.rule_id])),
                    ("Remove target", ""),
                ),
            },
        )

    def post(self, request, pk):
        target = _target_or_404(request, pk)
        rule_pk = target.rule_id
        name = str(target)
        target.delete()
        if request.htmx:
            return HttpResponse(_status_oob(request, rule_pk))
        messages.success(request, f"Target “{name}” removed.")
        return redirect("routing:routingrule_targets", pk=rule_pk)


def target_field(request):
    """htmx: the target select of a row after its type changed (empty, of the new type)."""
    tenant = tenant_or_404(request)
    prefix = request.GET.get("prefix", "new")
    digits = prefix[1:]
    if not (prefix == "new" or (prefix[:1] == "t" and digits.isascii() and digits.isdigit())):
        prefix = "new"
    kind = request.GET.get(f"{prefix}-kind", request.GET.get("kind", ""))
    form = RoutingTargetForm(tenant=tenant, rule=RoutingRule(tenant=tenant), prefix=prefix)
    form.initial["kind"] = kind if kind in KIND_FIELDS else ""
    return render(request, "routing/_target_field.html", {"form": form})
