"""One FilterSet per model, shared by the list pages (and the API)."""

from datetime import UTC, datetime, time

import django_filters
from django import forms
from django.apps import apps
from django.db.models import Exists, F, OuterRef, Q
from django_countries import countries

from customers.models import Customer, Rate, RatePlan, Trunk, TrunkNetwork
from customers.widgets import FastSelect
from vmgate.filtersets import TenantFilterSet
from vmgate.widgets import SearchSelect


class CustomerFilterSet(TenantFilterSet):
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "name or email"}),
    )
    billing_type = django_filters.ChoiceFilter(choices=Customer.BILLING_CHOICES, label="Type")
    status = django_filters.ChoiceFilter(choices=Customer.STATUS_CHOICES)
    country = django_filters.ChoiceFilter(choices=countries, widget=FastSelect)
    takes_calls = django_filters.ChoiceFilter(
        choices=[("yes", "Takes new calls"), ("no", "Cannot take new calls")],
        method="filter_takes_calls",
        empty_label="Takes calls: any",
        label="New calls",
    )

    class Meta:
        model = Customer
        fields = ["q", "billing_type", "status", "country", "takes_calls"]

    def filter_takes_calls(self, queryset, name, value):
        if value == "yes":
            return queryset.filter(takes_calls_q())
        if value == "no":
            return queryset.exclude(takes_calls_q())
        return queryset

    def search(self, queryset, name, value):
        value = value.replace("\x00", "").strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(email__icontains=value))


def takes_calls_q():
    """Q over Customer: active and :meth:`Customer.can_take_calls` holds, in SQL so a list
    can filter and the home page count 100k customers in one query. The model's method is
    the rule; tests/customers/test_takes_calls_filter.py holds this to it case by case."""
    P = Customer
    postpaid = Q(billing_type=P.POSTPAID)
    money = (
        Q(billing_type=P.PREPAID, balance__gt=0)
        | (postpaid & Q(credit_unlimited=True))
        | (postpaid & Q(overdraft_allowed=False, balance__gt=-F("credit_limit")))
        | (
            postpaid
            & Q(overdraft_allowed=True, balance__gt=-F("credit_limit") - F("overdraft_limit"))
        )
    )
    return Q(status=P.ACTIVE) & money


class TrunkFilterSet(TenantFilterSet):
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "name, prefix or IP"}),
    )
    customer = django_filters.ModelChoiceFilter(
        queryset=Customer.objects.all(), widget=SearchSelect("customers:customer_options")
    )
    status = django_filters.ChoiceFilter(choices=Trunk.STATUS_CHOICES)
    rate_plan = django_filters.ModelChoiceFilter(queryset=RatePlan.objects.all())
    # Not named "dialpeers": the API schema would type it as the reverse relation (an id).
    linked = django_filters.ChoiceFilter(
        choices=[("none_active", "No active dialpeer")],
        method="filter_dialpeers",
        empty_label="Dialpeers: any",
        label="Dialpeers",
    )

    class Meta:
        model = Trunk
        fields = ["q", "customer", "status", "rate_plan", "linked"]

    def filter_dialpeers(self, queryset, name, value):
        """A trunk no active dialpeer links routes no call (SPEC §5 step 3)."""
        if value != "none_active":
            return queryset
        Dialpeer = apps.get_model("dialpeers", "Dialpeer")  # imports flow the other way
        active = Dialpeer.objects.filter(trunk_id=OuterRef("pk"), is_active=True)
        return queryset.exclude(Exists(active))

    def search(self, queryset, name, value):
        value = value.replace("\x00", "").strip()
        if not value:
            return queryset
        # EXISTS, not a join: a join would need DISTINCT, and COUNT(DISTINCT …) is slow.
        in_networks = TrunkNetwork.objects.filter(trunk=OuterRef("pk"), network__startswith=value)
        return queryset.filter(
            Q(name__icontains=value)
            | Q(tech_prefix__startswith=value)
            | Q(customer__name__icontains=value)
            | Exists(in_networks)
        )


class RatePlanFilterSet(TenantFilterSet):
    q = django_filters.CharFilter(
        field_name="name",
        lookup_expr="icontains",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "name"}),
    )
    status = django_filters.ChoiceFilter(choices=RatePlan.STATUS_CHOICES)

    class Meta:
        model = RatePlan
        fields = ["q", "status"]


class RateFilterSet(django_filters.FilterSet):
    """Destinations of one plan (the view scopes the plan): code prefix and "valid at"."""

    code = django_filters.CharFilter(
        method="code_prefix",
        label="Code prefix",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "e.g. 374", "inputmode": "numeric"}
        ),
    )
    valid_at = django_filters.DateFilter(
        method="valid_at_filter",
        label="Valid at (UTC)",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = Rate
        fields = ["code", "valid_at"]

    def code_prefix(self, queryset, name, value):
        value = value.replace("\x00", "").strip()
        if not value:
            return queryset
        return queryset.code_starts_with(value)

    def valid_at_filter(self, queryset, name, value):
        if not value:
            return queryset
        at = datetime.combine(value, time.min, tzinfo=UTC)
        return queryset.in_effect_at(at)
