"""Operator pages of the routing policy (SPEC §9): translation sets with their rules and test
box, number lists with their entries, schedules with their windows and week grid.

Lists and edit pages use the shared bases (vmgate/views.py). A rule, an entry or a window is
edited on a page of its own under its parent (the parent's page lists them), like a plan's
destinations. A number list's page is the paged, searchable list of its entries (lists hold
tens of thousands): never all of them at once.
"""

import html

from django import forms
from django.db.models import OuterRef
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join, strip_tags

from customers.models import Trunk, TrunkNumberList
from routing import bulk, policy
from routing.filtersets import (
    NumberListEntryFilterSet,
    NumberListFilterSet,
    ScheduleFilterSet,
    TranslationSetFilterSet,
)
from routing.forms import (
    NumberListEntryForm,
    NumberListForm,
    ScheduleForm,
    ScheduleWindowForm,
    TranslationRuleForm,
    TranslationSetForm,
    TranslationTestForm,
)
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
from routing.queries import subquery_count
from routing.tables import (
    NumberListEntryTable,
    NumberListTable,
    ScheduleTable,
    TranslationSetTable,
    plural,
)
from vmgate.history import history_rows
from vmgate.tenancy import scoped
from vmgate.views import (
    ChildExport,
    TenantCreateView,
    TenantDeleteView,
    TenantDetailView,
    TenantListView,
    TenantUpdateView,
)

#: How many users of a set, list or schedule its page names (the counts say the rest).
USERS_SHOWN = 100


def _count(model, fk, **filters):
    return subquery_count(model.objects.filter(**{fk: OuterRef("pk")}, **filters))


def _links(rows):
    return format_html_join(
        ", ", '<a href="{}">{}</a>', ((r.get_absolute_url() or "#", str(r)) for r in rows)
    )


def _refusal(obj, noun, uses, advice):
    """ "Translation set “x” is used by 2 trunks (ingress): a, b. Give them …" or None;
    ``uses`` are (count, count → words, first rows)."""
    parts = [
        format_html("{}: {}", what(n), _links(rows)) if rows else what(n)
        for n, what, rows in uses
        if n
    ]
    if not parts:
        return None
    return format_html(
        "{} “{}” is used by {}. {}",
        noun,
        obj,
        format_html_join("; ", "{}", ((p,) for p in parts)),
        advice,
    )


def _as_title(refusal):
    """A refusal as the disabled Delete button's tooltip: text, its links dropped."""
    return html.unescape(strip_tags(refusal)) if refusal else None


class ChildMixin:
    """Pages of a row under its parent (a set's rule, a list's entry, a schedule's window):
    the parent comes from the URL (``pk`` of an add page) or from the row; Back, Cancel and
    a save or delete lead to the parent's page."""

    parent_model = None
    parent_field = ""
    parent_label = ""  # the parent's list in the breadcrumbs

    @cached_property
    def parent(self):
        if self.get_object_kwarg_is_parent:
            return get_object_or_404(scoped(self.parent_model, self.tenant), pk=self.kwargs["pk"])
        obj = getattr(self, "object", None) or self.get_object()
        return getattr(obj, self.parent_field)

    get_object_kwarg_is_parent = False

    def get_queryset(self):
        return super().get_queryset().select_related(self.parent_field)

    def get_list_url(self):
        return self.parent.get_absolute_url()

    def get_success_url(self):
        return self.get_list_url()

    def get_breadcrumb_parents(self):
        meta = self.parent_model._meta
        return [
            (self.parent_label, reverse(f"routing:{meta.model_name}_list")),
            (str(self.parent), self.get_list_url()),
        ]

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["parent"] = self.parent
        return ctx


class ChildFormMixin(ChildMixin):
    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "parent": self.parent}


class ChildCreateView(ChildFormMixin, TenantCreateView):
    get_object_kwarg_is_parent = True

    def get_context_data(self, **kwargs):
        noun = self.model._meta.verbose_name
        return super().get_context_data(title=f"Add {noun} to {self.parent}", **kwargs)


class ChildUpdateView(ChildFormMixin, TenantUpdateView):
    def get_context_data(self, **kwargs):
        noun = self.model._meta.verbose_name
        return super().get_context_data(
            title=f"Edit {noun} {self.object} of {self.parent}", **kwargs
        )


class ChildDeleteView(ChildMixin, TenantDeleteView):
    form_class = forms.Form  # a confirmation; the row mixins name the edit form


# Translation sets ----------------------------------------------------------------------------


def translation_sets_with_counts(qs):
    return qs.annotate(
        n_rules=_count(TranslationRule, "translation_set"),
        n_trunks=_count(Trunk, "ingress_translation"),
        n_networks=_count(Network, "egress_translation"),
    )


class TranslationSetListView(TenantListView):
    model = TranslationSet
    table_class = TranslationSetTable
    filterset_class = TranslationSetFilterSet
    export_columns = bulk.TRANSLATION_SET
    import_kind = "translation_rules"  # a rule per line, its set created when missing
    list_noun, list_noun_plural = "translation set", "translation sets"
    child_exports = (
        ChildExport(
            "rules",
            "translation rules",
            bulk.TRANSLATION_RULE,
            lambda sets: (
                TranslationRule.objects.filter(translation_set__in=sets)
                .select_related("translation_set")
                .order_by("translation_set__name", "translation_set_id", "position", "id")
            ),
            ("Export rules CSV", "export-rules-csv"),
        ),
    )

    def page_rows(self, pks):
        return translation_sets_with_counts(self.get_base_queryset().filter(pk__in=pks))


def translation_refusal(obj):
    trunks = list(obj.ingress_trunks.select_related("customer").order_by("name", "id")[:5])
    networks = list(obj.egress_networks.order_by("name", "id")[:5])
    n_trunks = obj.n_trunks if hasattr(obj, "n_trunks") else obj.ingress_trunks.count()
    n_networks = obj.n_networks if hasattr(obj, "n_networks") else obj.egress_networks.count()
    return _refusal(
        obj,
        "Translation set",
        [
            (n_trunks, lambda n: plural(n, "trunk") + " as ingress translation", trunks),
            (n_networks, lambda n: plural(n, "network") + " as egress translation", networks),
        ],
        "Choose another set (or none) on them first.",
    )


def run_test(translation_set, form):
    """The test box's answer for a valid ``form``: each rule tried, each rule not reached,
    the result — by routing.policy.translate over the set's compiled rules, nothing else."""
    rules = translation_set.compiled_rules()
    number = form.digits()
    tried = []
    result, fired = policy.translate(rules, number, tried)
    reached = {r.rule.id for r in tried}
    return {
        "number": number,
        "tried": tried,
        "not_tried": [r for r in rules if r.id not in reached],
        "result": result,
        "invalid": result is None,
        "bad_result": fired[-1][2] if result is None and fired else "",
        "fired": fired,
    }


class TranslationSetDetailView(TenantDetailView):
    model = TranslationSet
    template_name = "routing/translationset_detail.html"

    def get_queryset(self):
        return translation_sets_with_counts(super().get_queryset())

    def test_form(self):
        return TranslationTestForm()

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        obj = self.object
        ctx["rules"] = list(obj.rules.order_by("position", "id"))
        ctx["trunks"] = list(
            obj.ingress_trunks.select_related("customer").order_by("customer__name", "name")[
                :USERS_SHOWN
            ]
        )
        ctx["networks"] = list(obj.egress_networks.order_by("name", "id")[:USERS_SHOWN])
        ctx["history"] = history_rows(
            obj,
            children=[("rule", TranslationRule.history.filter(translation_set_id=obj.pk), "match")],
        )
        ctx["delete_refusal"] = _as_title(translation_refusal(obj))
        ctx["test_form"] = self.test_form()
        return ctx


class TranslationSetTestView(TranslationSetDetailView):
    """The test box (``?number=``): htmx gets the result alone, a plain GET the whole page
    with it."""

    def test_form(self):
        if not hasattr(self, "_test_form"):
            self._test_form = TranslationTestForm(self.request.GET)
        return self._test_form

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        form = self.test_form()
        ctx["test"] = run_test(self.object, form) if form.is_valid() else None
        return ctx

    def get(self, request, *args, **kwargs):
        if not request.htmx:
            return super().get(request, *args, **kwargs)
        self.object = self.get_object()
        form = self.test_form()
        context = {
            "object": self.object,
            "test_form": form,
            "test": run_test(self.object, form) if form.is_valid() else None,
        }
        return render(request, "routing/_translation_test.html", context)


class TranslationSetCreateView(TenantCreateView):
    model = TranslationSet
    form_class = TranslationSetForm


class TranslationSetUpdateView(TenantUpdateView):
    model = TranslationSet
    form_class = TranslationSetForm


class TranslationSetDeleteView(TenantDeleteView):
    model = TranslationSet

    def get_queryset(self):
        return translation_sets_with_counts(super().get_queryset())

    def delete_refusal(self, obj):
        return translation_refusal(obj)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        n = self.object.n_rules
        ctx["delete_note"] = f"This deletes the set and its {n} rule{'s' if n != 1 else ''}."
        return ctx


class TranslationRuleMixin:
    model = TranslationRule
    form_class = TranslationRuleForm
    parent_model = TranslationSet
    parent_field = "translation_set"
    parent_label = "Translation sets"


class TranslationRuleCreateView(TranslationRuleMixin, ChildCreateView):
    pass


class TranslationRuleUpdateView(TranslationRuleMixin, ChildUpdateView):
    pass


class TranslationRuleDeleteView(TranslationRuleMixin, ChildDeleteView):
    form_class = forms.Form


# Number lists --------------------------------------------------------------------------------


def number_lists_with_counts(qs):
    return qs.annotate(
        n_entries=_count(NumberListEntry, "number_list"),
        n_trunks=_count(TrunkNumberList, "number_list"),
    )


class NumberListListView(TenantListView):
    model = NumberList
    table_class = NumberListTable
    filterset_class = NumberListFilterSet
    export_columns = bulk.NUMBER_LIST
    import_kind = "number_list_entries"  # an entry per line, its list created when missing
    list_noun, list_noun_plural = "number list", "number lists"

    def page_rows(self, pks):
        return number_lists_with_counts(self.get_base_queryset().filter(pk__in=pks))


def number_list_refusal(obj):
    n = obj.n_trunks if hasattr(obj, "n_trunks") else obj.trunk_links.count()
    trunks = list(obj.trunks.select_related("customer").order_by("name", "id")[:5]) if n else []
    return _refusal(
        obj,
        "Number list",
        [(n, lambda n: plural(n, "trunk"), trunks)],
        "Take it off those trunks first.",
    )


class NumberListDetailView(TenantListView):
    """A number list's page: its settings, the trunks that check it, its history, and its
    entries as a list page of their own (search by value prefix, sort, pages, export)."""

    model = NumberListEntry
    table_class = NumberListEntryTable
    filterset_class = NumberListEntryFilterSet
    template_name = "routing/numberlist_detail.html"
    export_columns = bulk.NUMBER_LIST_ENTRY  # the columns the entries import reads
    import_kind = "number_list_entries"
    export_related = ("number_list",)
    list_noun, list_noun_plural = "entry", "entries"
    show_breadcrumbs = True

    @cached_property
    def number_list(self):
        lists = number_lists_with_counts(scoped(NumberList, self.tenant))
        return get_object_or_404(lists, pk=self.kwargs["pk"])

    def get_base_queryset(self):
        return super().get_base_queryset().filter(number_list=self.number_list)

    def get_list_url(self):
        return reverse("routing:numberlist_list")

    def get_breadcrumbs(self):
        return [
            ("Home", reverse("home")),
            ("Number lists", self.get_list_url()),
            (str(self.number_list), ""),
        ]

    def export_filename(self):
        return f"number list {self.number_list.name}"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        obj = self.number_list
        ctx["object"] = obj
        ctx["add_url"] = reverse("routing:numberlistentry_add", args=[obj.pk])
        ctx["add_label"] = "+ Add entry"
        ctx["verbose_name_plural"] = f"Number list {obj}"
        ctx["list_empty_text"] = "No entries yet: the list holds no number."
        if not self.is_partial():
            ctx["trunks"] = list(
                obj.trunks.select_related("customer").order_by("customer__name", "name")[
                    :USERS_SHOWN
                ]
            )
            ctx["history"] = history_rows(
                obj,
                children=[
                    ("entry", NumberListEntry.history.filter(number_list_id=obj.pk), "value")
                ],
            )
            ctx["delete_refusal"] = _as_title(number_list_refusal(obj))
        return ctx


class NumberListCreateView(TenantCreateView):
    model = NumberList
    form_class = NumberListForm


class NumberListUpdateView(TenantUpdateView):
    model = NumberList
    form_class = NumberListForm


class NumberListDeleteView(TenantDeleteView):
    model = NumberList

    def get_queryset(self):
        return number_lists_with_counts(super().get_queryset())

    def delete_refusal(self, obj):
        return number_list_refusal(obj)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        n = self.object.n_entries
        ctx["delete_note"] = f"This deletes the list and its {n} entr{'ies' if n != 1 else 'y'}."
        return ctx


class NumberListEntryMixin:
    model = NumberListEntry
    form_class = NumberListEntryForm
    parent_model = NumberList
    parent_field = "number_list"
    parent_label = "Number lists"


class NumberListEntryCreateView(NumberListEntryMixin, ChildCreateView):
    submit_label = "Add entry"


class NumberListEntryUpdateView(NumberListEntryMixin, ChildUpdateView):
    pass


class NumberListEntryDeleteView(NumberListEntryMixin, ChildDeleteView):
    form_class = forms.Form


# Schedules -----------------------------------------------------------------------------------


def schedules_with_counts(qs):
    return qs.annotate(
        n_windows=_count(ScheduleWindow, "schedule"),
        n_rules=_count(RoutingRule, "schedule"),
        n_targets=_count(RoutingTarget, "schedule"),
    )


class ScheduleListView(TenantListView):
    model = Schedule
    table_class = ScheduleTable
    filterset_class = ScheduleFilterSet
    export_columns = bulk.SCHEDULE
    import_kind = "schedule_windows"  # a window per line, its schedule created when missing
    list_noun, list_noun_plural = "schedule", "schedules"
    child_exports = (
        ChildExport(
            "windows",
            "schedule windows",
            bulk.SCHEDULE_WINDOW,
            lambda schedules: (
                ScheduleWindow.objects.filter(schedule__in=schedules)
                .select_related("schedule")
                .order_by("schedule__name", "schedule_id", "start", "id")
            ),
            ("Export windows CSV", "export-windows-csv"),
        ),
    )

    def page_rows(self, pks):
        return schedules_with_counts(self.get_base_queryset().filter(pk__in=pks))


def schedule_refusal(obj):
    n_rules = obj.n_rules if hasattr(obj, "n_rules") else obj.rules.count()
    n_targets = obj.n_targets if hasattr(obj, "n_targets") else obj.targets.count()
    rules = list(obj.rules.select_related("trunk__customer").order_by("code", "id")[:5])
    target_rules = list(
        RoutingRule.objects.filter(pk__in=obj.targets.values("rule_id"))
        .select_related("trunk__customer")
        .order_by("code", "id")[:5]
    )
    return _refusal(
        obj,
        "Schedule",
        [
            (n_rules, lambda n: plural(n, "routing rule"), rules),
            (n_targets, lambda n: plural(n, "target") + " of the rules", target_rules),
        ],
        "Choose another schedule (or none) on them first.",
    )


class ScheduleDetailView(TenantDetailView):
    model = Schedule
    template_name = "routing/schedule_detail.html"

    def get_queryset(self):
        return schedules_with_counts(super().get_queryset())

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        obj = self.object
        ctx["windows"] = list(obj.windows.order_by("start", "id"))
        ctx["grid"] = policy.week_grid(obj.compiled(), 60)
        ctx["hours"] = range(24)
        ctx["rules"] = list(
            obj.rules.select_related("trunk__customer").order_by("code", "id")[:USERS_SHOWN]
        )
        ctx["targets"] = list(
            obj.targets.select_related(
                "rule__trunk__customer", "network", "client", "sim_slot__client"
            ).order_by("rule__code", "rule_id", "priority", "id")[:USERS_SHOWN]
        )
        ctx["history"] = history_rows(
            obj,
            children=[("window", ScheduleWindow.history.filter(schedule_id=obj.pk), "start")],
        )
        ctx["delete_refusal"] = _as_title(schedule_refusal(obj))
        return ctx


class ScheduleCreateView(TenantCreateView):
    model = Schedule
    form_class = ScheduleForm

    def get_initial(self):
        return {**super().get_initial(), "timezone": "UTC"}


class ScheduleUpdateView(TenantUpdateView):
    model = Schedule
    form_class = ScheduleForm


class ScheduleDeleteView(TenantDeleteView):
    model = Schedule

    def get_queryset(self):
        return schedules_with_counts(super().get_queryset())

    def delete_refusal(self, obj):
        return schedule_refusal(obj)


class ScheduleWindowMixin:
    model = ScheduleWindow
    form_class = ScheduleWindowForm
    parent_model = Schedule
    parent_field = "schedule"
    parent_label = "Schedules"


class ScheduleWindowCreateView(ScheduleWindowMixin, ChildCreateView):
    pass


class ScheduleWindowUpdateView(ScheduleWindowMixin, ChildUpdateView):
    pass


class ScheduleWindowDeleteView(ScheduleWindowMixin, ChildDeleteView):
    form_class = forms.Form
