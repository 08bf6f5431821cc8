"""Routing checks' filters: the model's FilterSet (the API's) and the list page's."""

import django_filters
from django import forms
from django.db.models import Q

from customers.models import Trunk
from routing.filtersets import clean_search_text
from routing.models import RoutingCheck
from vmgate.filtersets import TenantFilterSet


class RoutingCheckFilterSet(TenantFilterSet):
    """Saved routing checks by name, trunk, expected outcome and last result."""

    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or number"}),
    )
    trunk = django_filters.ModelChoiceFilter(queryset=Trunk.objects.all(), label="Trunk")
    expected_outcome = django_filters.ChoiceFilter(
        choices=[("routed", "Routed"), ("rejected", "Rejected")],
        label="Expected outcome",
        empty_label="Any outcome",
    )
    last_passed = django_filters.BooleanFilter(label="Passed last run")

    class Meta:
        model = RoutingCheck
        fields = []

    def search(self, qs, name, value):
        value = clean_search_text(value)
        if not value:
            return qs
        return qs.filter(Q(name__icontains=value) | Q(called_number__startswith=value))


class RoutingCheckListFilterSet(RoutingCheckFilterSet):
    """The model's FilterSet (shared with the API) without its trunk select, which would
    render every trunk of the tenant; the search box finds checks by name or number."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters.pop("trunk", None)
        self.filters["last_passed"].field.widget = forms.Select(
            choices=[("", "Any result"), ("true", "Pass"), ("false", "Fail")]
        )
