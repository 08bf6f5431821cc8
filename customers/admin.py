from django.contrib import admin

from customers.models import BalanceEntry, Customer, Rate, RatePlan, Trunk, TrunkNetwork
from vmgate.admin import ConflictSafeAdminMixin, DomainAdmin

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


class TrunkNetworkInline(admin.TabularInline):
    model = TrunkNetwork
    extra = 1


@admin.register(Trunk)
class TrunkAdmin(DomainAdmin):
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
    autocomplete_fields = ["tenant", "customer", "rate_plan"]
    inlines = [TrunkNetworkInline]


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
