from django.contrib import admin

from customers.models import Customer, Rate, RatePlan, Trunk, TrunkNetwork
from vmgate.admin import DomainAdmin


@admin.register(Customer)
class CustomerAdmin(DomainAdmin):
    list_display = ["name", "country", "billing_type", "balance", "trunk_count", "status"]
    list_filter = ["billing_type", "status"]
    list_select_related = ["tenant"]
    search_fields = ["name", "email"]
    autocomplete_fields = ["tenant"]


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
class TrunkNetworkAdmin(admin.ModelAdmin):
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
