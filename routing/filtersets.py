"""One FilterSet per model (list pages; reusable by the API)."""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q

from customers.models import Trunk
from dialpeers.models import Dialpeer
from routing.dialplan import CATCH_ALL
from routing.models import (
    Network,
    NumberList,
    NumberListEntry,
    RoutingRule,
    RoutingTarget,
    Schedule,
    TranslationSet,
    VMGateClient,
)
from routing.queries import code_prefix_q, has_targets, has_usable_target, subquery_count
from vmgate.filtersets import TenantFilterSet
from vmgate.widgets import SearchSelect


def clean_search_text(value):
    return (value or "").replace("\x00", "").strip()[:100]


class NetworkFilterSet(TenantFilterSet):
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name"}),
    )

    class Meta:
        model = Network
        fields = []

    def search(self, qs, name, value):
        value = clean_search_text(value)
        return qs.filter(name__icontains=value) if value else qs


class VMGateClientFilterSet(TenantFilterSet):
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Device name or node id"}),
    )
    network = django_filters.ModelChoiceFilter(
        queryset=Network.objects.all(),
        widget=SearchSelect(
            "routing:target_options",
            params={"kind": "network", "empty": "any"},
            placeholder="Search network…",
        ),
        empty_label="Any network",
    )
    status = django_filters.ChoiceFilter(
        choices=VMGateClient.STATUS_CHOICES, empty_label="Any status"
    )
    attention = django_filters.ChoiceFilter(
        choices=[("down_sole_target", "Not ready, the only target of a rule")],
        method="filter_attention",
        empty_label="Any client",
        label="Needs attention",
    )

    class Meta:
        model = VMGateClient
        fields = []

    def filter_attention(self, qs, name, value):
        """Off or without dongle while it is a rule's only target (itself or one of its SIM
        slots): that rule carries no traffic until the client is back."""
        if value != "down_sole_target":
            return qs
        alone = RoutingTarget.objects.annotate(
            n=subquery_count(RoutingTarget.objects.filter(rule_id=OuterRef("rule_id")))
        ).filter(n=1)
        # Two index-driven EXISTS: an OR across the slot join would scan every target.
        return qs.exclude(status=VMGateClient.READY).filter(
            Exists(alone.filter(client_id=OuterRef("pk")))
            | Exists(alone.filter(sim_slot__client_id=OuterRef("pk")))
        )

    def search(self, qs, name, value):
        value = clean_search_text(value)
        if not value:
            return qs
        return qs.filter(Q(name__icontains=value) | Q(node_id__icontains=value))


def search_rules(qs, value):
    """Digits search codes by prefix (index-friendly); other text searches the label;
    ``*`` finds the catch-all."""
    value = clean_search_text(value)
    if not value:
        return qs
    if value.isascii() and value.isdigit():
        return qs.filter(code_prefix_q(value)) if len(value) <= 15 else qs.none()
    if value in ("*", CATCH_ALL, "any"):
        return qs.filter(code="")
    return qs.filter(label__icontains=value)


class RoutingRuleFilterSet(TenantFilterSet):
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Code prefix or label"}),
    )
    assignment = django_filters.ChoiceFilter(
        choices=RoutingRule.ASSIGNMENT_CHOICES,
        empty_label="Any assignment",
        label="Assignment",
    )
    scope = django_filters.ChoiceFilter(
        choices=[("all", "All trunks"), ("trunk", "One trunk")],
        method="filter_scope",
        empty_label="Any scope",
        label="Scope",
    )
    trunk = django_filters.ModelChoiceFilter(
        queryset=Trunk.objects.all(),
        widget=SearchSelect(
            "customers:trunk_options", params={"empty": "any"}, placeholder="Search trunk…"
        ),
        empty_label="Any trunk",
        label="Trunk",
    )
    status = django_filters.ChoiceFilter(
        choices=[
            ("active", "Active"),
            ("inactive", "Inactive"),
            ("no_traffic", "Active, carries no traffic"),
        ],
        method="filter_status",
        empty_label="Any status",
        label="Status",
    )
    has_targets = django_filters.ChoiceFilter(
        choices=[("yes", "With targets"), ("no", "Without targets")],
        method="filter_has_targets",
        label="Targets",
    )

    # Not named "dialpeers": the API schema would type it as the reverse relation (an id).
    linked = django_filters.ChoiceFilter(
        choices=[("active", "With an active dialpeer"), ("none", "Without dialpeers")],
        method="filter_dialpeers",
        empty_label="Dialpeers: any",
        label="Dialpeers",
    )

    class Meta:
        model = RoutingRule
        fields = []

    def search(self, qs, name, value):
        return search_rules(qs, value)

    def filter_dialpeers(self, qs, name, value):
        linked = Dialpeer.objects.filter(rule_id=OuterRef("pk"))
        if value == "active":
            return qs.filter(Exists(linked.filter(is_active=True)))
        if value == "none":
            return qs.exclude(Exists(linked))
        return qs

    def filter_scope(self, qs, name, value):
        if value == "all":
            return qs.filter(trunk__isnull=True)
        if value == "trunk":
            return qs.filter(trunk__isnull=False)
        return qs

    def filter_status(self, qs, name, value):
        if value == "active":
            return qs.filter(is_active=True)
        if value == "inactive":
            return qs.filter(is_active=False)
        if value == "no_traffic":
            return qs.filter(is_active=True).exclude(has_usable_target())
        return qs

    def filter_has_targets(self, qs, name, value):
        if value == "yes":
            return qs.filter(has_targets())
        if value == "no":
            return qs.exclude(has_targets())
        return qs


class RoutingTargetFilterSet(TenantFilterSet):
    """Targets by rule, kind and state (the API's list; the UI shows targets per rule)."""

    rule = django_filters.ModelChoiceFilter(queryset=RoutingRule.objects.all(), label="Rule")
    kind = django_filters.ChoiceFilter(
        choices=[("network", "Network"), ("client", "VMGateClient"), ("sim_slot", "SIM slot")],
        method="filter_kind",
        label="Kind",
    )
    client = django_filters.ModelChoiceFilter(
        queryset=VMGateClient.objects.all(), label="VMGateClient"
    )
    network = django_filters.ModelChoiceFilter(queryset=Network.objects.all(), label="Network")
    is_active = django_filters.BooleanFilter(label="Active")

    class Meta:
        model = RoutingTarget
        fields = []

    def filter_kind(self, qs, name, value):
        return qs.filter(**{f"{value}__isnull": False}) if value else qs


class _NamedFilterSet(TenantFilterSet):
    """Search by name (the routing-policy lists)."""

    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name"}),
    )

    def search(self, qs, name, value):
        value = clean_search_text(value)
        return qs.filter(name__icontains=value) if value else qs


class TranslationSetFilterSet(_NamedFilterSet):
    class Meta:
        model = TranslationSet
        fields = []


class NumberListFilterSet(_NamedFilterSet):
    kind = django_filters.ChoiceFilter(choices=NumberList.KIND_CHOICES, empty_label="Any kind")
    applies_to = django_filters.ChoiceFilter(
        choices=NumberList.APPLIES_CHOICES, empty_label="Any number", label="Checks"
    )

    class Meta:
        model = NumberList
        fields = []


class ScheduleFilterSet(_NamedFilterSet):
    class Meta:
        model = Schedule
        fields = []


class NumberListEntryFilterSet(TenantFilterSet):
    """The entries of one list (its page): digits search values by prefix (the unique
    index's order), other text the note."""

    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Value prefix or note"}),
    )
    match = django_filters.ChoiceFilter(
        choices=NumberListEntry.MATCH_CHOICES, empty_label="Any match"
    )

    class Meta:
        model = NumberListEntry
        fields = []

    def search(self, qs, name, value):
        value = clean_search_text(value).removeprefix("+")
        if not value:
            return qs
        if value.isascii() and value.isdigit():
            return qs.filter(value__startswith=value) if len(value) <= 24 else qs.none()
        return qs.filter(note__icontains=value)
