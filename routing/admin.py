from django.contrib import admin

from routing.models import (
    Network,
    RoutingCheck,
    RoutingRule,
    RoutingTarget,
    SimSlot,
    VMGateClient,
)
from vmgate.admin import DomainAdmin


@admin.register(Network)
class NetworkAdmin(DomainAdmin):
    list_display = ["name"]
    list_select_related = ["tenant"]
    search_fields = ["name"]
    autocomplete_fields = ["tenant"]


class SimSlotInline(admin.TabularInline):
    model = SimSlot
    extra = 0


@admin.register(VMGateClient)
class VMGateClientAdmin(DomainAdmin):
    list_display = ["name", "node_id", "network", "status", "active_calls", "sip_uri"]
    list_filter = ["status"]
    list_select_related = ["tenant", "network"]
    search_fields = ["name", "node_id"]
    autocomplete_fields = ["tenant", "network"]
    inlines = [SimSlotInline]


@admin.register(SimSlot)
class SimSlotAdmin(admin.ModelAdmin):
    list_display = ["client", "position", "enabled", "label", "tenant"]
    list_select_related = ["client__tenant"]
    list_filter = ["client__tenant", "enabled"]
    search_fields = ["client__name", "label"]
    autocomplete_fields = ["client"]

    @admin.display(ordering="client__tenant__name")
    def tenant(self, obj):
        return obj.client.tenant


class RoutingTargetInline(admin.TabularInline):
    model = RoutingTarget
    extra = 0
    autocomplete_fields = ["network", "client", "sim_slot"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(DomainAdmin):
    list_display = ["code", "label", "assignment", "trunk", "is_active"]
    list_filter = ["assignment", "is_active"]
    list_select_related = ["tenant", "trunk__customer"]
    search_fields = ["code", "label"]
    autocomplete_fields = ["tenant", "trunk"]
    inlines = [RoutingTargetInline]


@admin.register(RoutingTarget)
class RoutingTargetAdmin(admin.ModelAdmin):
    list_display = ["rule", "network", "client", "sim_slot", "priority", "weight", "is_active"]
    list_select_related = ["rule__tenant", "network", "client", "sim_slot__client"]
    list_filter = ["rule__tenant", "is_active"]
    search_fields = ["rule__code", "rule__label"]
    autocomplete_fields = ["rule", "network", "client", "sim_slot"]


@admin.register(RoutingCheck)
class RoutingCheckAdmin(DomainAdmin):
    list_display = [
        "name",
        "trunk",
        "source_ip",
        "called_number",
        "expected_outcome",
        "last_passed",
    ]
    list_select_related = ["tenant", "trunk__customer"]
    search_fields = ["name", "called_number"]
    autocomplete_fields = ["tenant", "trunk", "expected_rule"]
