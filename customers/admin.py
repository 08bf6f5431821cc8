from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.forms.models import BaseInlineFormSet

from customers.models import (
    BalanceEntry,
    Customer,
    Rate,
    RatePlan,
    Trunk,
    TrunkNetwork,
    check_ingress_now,
    defer_ingress_check,
    overlaps_by_network,
)
from vmgate.admin import ConflictSafeAdminMixin, DomainAdmin
from vmgate.models import INVALID_CHOICE

BALANCE_ENTRY_FIELDS = ["kind", "amount", "reference", "note"]
BALANCE_ENTRY_RECORD = ["created_at", "created_by", "balance_after"]


class BalanceEntryInline(admin.TabularInline):
    """A customer's balance entries: new ones can be added (each moves the balance when the
    customer is saved); recorded ones are shown read-only and never deleted."""

    model = BalanceEntry
    extra = 0
    fields = [*BALANCE_ENTRY_FIELDS, *BALANCE_ENTRY_RECORD]
    readonly_fields = BALANCE_ENTRY_RECORD
    can_delete = False
    ordering = ["-id"]
    show_change_link = False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(DomainAdmin):
    list_display = ["name", "country", "billing_type", "balance", "trunk_count", "status"]
    list_filter = ["billing_type", "status"]
    list_select_related = ["tenant"]
    search_fields = ["name", "email"]
    autocomplete_fields = ["tenant"]
    # The balance moves only through balance entries (the inline below).
    readonly_fields = ["balance", "trunk_count"]
    inlines = [BalanceEntryInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is BalanceEntry:
            for entry in formset.save(commit=False):
                entry.created_by = request.user
                entry.save()
            return
        super().save_formset(request, form, formset, change)


@admin.register(BalanceEntry)
class BalanceEntryAdmin(admin.ModelAdmin):
    """Every tenant's balance entries: recorded here or elsewhere, never edited or deleted."""

    list_display = ["created_at", "tenant", "customer", "kind", "amount", "reference"]
    list_display += ["created_by", "balance_after"]
    list_filter = ["customer__tenant", "kind"]
    list_select_related = ["customer__tenant", "created_by"]
    search_fields = ["customer__name", "reference", "note"]
    autocomplete_fields = ["customer"]
    fields = ["customer", *BALANCE_ENTRY_FIELDS]
    date_hierarchy = "created_at"

    @admin.display(ordering="customer__tenant__name")
    def tenant(self, obj):
        return obj.customer.tenant

    def get_fields(self, request, obj=None):
        return self.fields if obj is None else [*self.fields, *BALANCE_ENTRY_RECORD]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def has_change_permission(self, request, obj=None):
        # The list and each entry stay viewable (view permission); nothing is editable.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.created_by = request.user
        obj.save()


class TrunkNetworkInlineFormSet(BaseInlineFormSet):
    """The networks being submitted, checked against other trunks with the submitted tech
    prefix (a new trunk's rows have no saved trunk for ``TrunkNetwork.clean()`` to check)."""

    def clean(self):
        super().clean()
        trunk = self.instance
        if not (trunk.tenant_id and trunk.tech_prefix):
            return
        rows = {}
        for form in self.forms:
            if form.errors or not form.has_changed() and not form.instance.pk:
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            if form.instance.network:
                rows[form.instance.network] = form
        clashes = overlaps_by_network(
            trunk.tenant_id, trunk.tech_prefix, list(rows), exclude_trunk=trunk.pk
        )
        for net, message in clashes.items():
            rows[net].add_error("network", message)


class TrunkNetworkInline(admin.TabularInline):
    model = TrunkNetwork
    formset = TrunkNetworkInlineFormSet
    extra = 1


class TrunkAdminForm(forms.ModelForm):
    """The trunk's number lists (a many-to-many through TrunkNumberList, which the admin
    leaves out by itself): the trunk's own tenant's lists only; a list of another tenant is
    refused as "Select a valid choice", as on the trunk page."""

    number_lists = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=FilteredSelectMultiple("number lists", is_stacked=False),
        help_text=Trunk._meta.get_field("number_lists").help_text,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        lists = Trunk.number_lists.rel.model.objects.select_related("tenant").order_by(
            "tenant__name", "name"
        )
        if self.instance.pk:
            lists = lists.filter(tenant_id=self.instance.tenant_id)
        self.fields["number_lists"].queryset = lists
        self.fields["number_lists"].label_from_instance = lambda nl: f"{nl.name} ({nl.tenant})"

    def clean(self):
        cleaned = super().clean()
        tenant = cleaned.get("tenant")
        chosen = cleaned.get("number_lists") or []
        if tenant is not None and any(nl.tenant_id != tenant.pk for nl in chosen):
            self.add_error("number_lists", INVALID_CHOICE)
        return cleaned


@admin.register(Trunk)
class TrunkAdmin(DomainAdmin):
    form = TrunkAdminForm
    list_display = [
        "name",
        "customer",
        "tech_prefix",
        "rate_plan",
        "max_concurrent_calls",
        "status",
    ]
    list_filter = ["status"]
    list_select_related = ["tenant", "customer", "rate_plan"]
    search_fields = ["name", "tech_prefix", "customer__name"]
    autocomplete_fields = ["tenant", "customer", "rate_plan", "ingress_translation"]
    inlines = [TrunkNetworkInline]

    # The trunk and its networks are judged together (customers/ingress_guard.py).
    def save_model(self, request, obj, form, change):
        defer_ingress_check()
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        check_ingress_now()


@admin.register(TrunkNetwork)
class TrunkNetworkAdmin(ConflictSafeAdminMixin, admin.ModelAdmin):
    list_display = ["network", "trunk", "tenant"]
    list_select_related = ["trunk__tenant", "trunk__customer"]
    list_filter = ["trunk__tenant"]
    search_fields = ["network", "trunk__name"]
    autocomplete_fields = ["trunk"]

    @admin.display(ordering="trunk__tenant__name")
    def tenant(self, obj):
        return obj.trunk.tenant


class RateInline(admin.TabularInline):
    model = Rate
    extra = 1


@admin.register(RatePlan)
class RatePlanAdmin(DomainAdmin):
    list_display = ["name", "currency", "status"]
    list_filter = ["status"]
    list_select_related = ["tenant"]
    search_fields = ["name"]
    autocomplete_fields = ["tenant"]
    inlines = [RateInline]


@admin.register(Rate)
class RateAdmin(admin.ModelAdmin):
    list_display = ["code", "description", "rate_plan", "valid_since", "rate_per_min", "tenant"]
    list_select_related = ["rate_plan__tenant"]
    list_filter = ["rate_plan__tenant"]
    search_fields = ["code", "description", "rate_plan__name"]
    autocomplete_fields = ["rate_plan"]

    @admin.display(ordering="rate_plan__tenant__name")
    def tenant(self, obj):
        return obj.rate_plan.tenant
