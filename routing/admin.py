from django.contrib import admin

from routing.models import (
    Network,
    NumberList,
    NumberListEntry,
    RoutingCheck,
    RoutingRule,
    RoutingTarget,
    Schedule,
    ScheduleWindow,
    SimSlot,
    TranslationRule,
    TranslationSet,
    VMGateClient,
)
from vmgate.admin import ConflictSafeAdminMixin, DomainAdmin


@admin.register(Network)
class NetworkAdmin(DomainAdmin):
    list_display = ["name", "egress_translation"]
    list_select_related = ["tenant", "egress_translation"]
    search_fields = ["name"]
    autocomplete_fields = ["tenant", "egress_translation"]


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
    autocomplete_fields = ["network", "client", "sim_slot", "schedule"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(DomainAdmin):
    list_display = ["code", "label", "assignment", "trunk", "schedule", "is_active"]
    list_filter = ["assignment", "is_active"]
    list_select_related = ["tenant", "trunk__customer", "schedule"]
    search_fields = ["code", "label"]
    autocomplete_fields = ["tenant", "trunk", "schedule"]
    inlines = [RoutingTargetInline]


@admin.register(RoutingTarget)
class RoutingTargetAdmin(admin.ModelAdmin):
    list_display = [
        "rule",
        "network",
        "client",
        "sim_slot",
        "priority",
        "weight",
        "schedule",
        "is_active",
    ]
    list_select_related = ["rule__tenant", "network", "client", "sim_slot__client", "schedule"]
    list_filter = ["rule__tenant", "is_active"]
    search_fields = ["rule__code", "rule__label"]
    autocomplete_fields = ["rule", "network", "client", "sim_slot", "schedule"]


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


# Routing policy (SPEC §9). Every model's clean() checks what its rows may hold (patterns,
# time zones, weekdays, same-tenant references), so the admin refuses what the pages do.


class TranslationRuleInline(admin.TabularInline):
    model = TranslationRule
    extra = 0
    fields = ["position", "match", "replace", "stop"]
    ordering = ["position", "id"]


@admin.register(TranslationSet)
class TranslationSetAdmin(DomainAdmin):
    list_display = ["name"]
    list_select_related = ["tenant"]
    search_fields = ["name"]
    autocomplete_fields = ["tenant"]
    inlines = [TranslationRuleInline]


@admin.register(TranslationRule)
class TranslationRuleAdmin(ConflictSafeAdminMixin, admin.ModelAdmin):
    list_display = ["translation_set", "position", "match", "replace", "stop", "tenant"]
    list_select_related = ["translation_set__tenant"]
    list_filter = ["translation_set__tenant", "stop"]
    search_fields = ["translation_set__name", "match", "replace"]
    autocomplete_fields = ["translation_set"]

    @admin.display(ordering="translation_set__tenant__name")
    def tenant(self, obj):
        return obj.translation_set.tenant


class NumberListEntryInline(admin.TabularInline):
    """A list's entries in its change form: a list holds tens of thousands, so only the
    first page is shown here (the entries' own admin pages them all)."""

    model = NumberListEntry
    extra = 0
    fields = ["value", "match", "note"]
    ordering = ["value", "match", "id"]
    max_shown = 50

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        # A slice cannot be filtered again (the formset filters by the list): take the ids
        # of this list's first entries (the change form's object; none on the add form).
        match = getattr(request, "resolver_match", None)
        list_pk = match.kwargs.get("object_id") if match else None
        if not (list_pk and str(list_pk).isdigit()):
            return qs.none()
        mine = qs.filter(number_list_id=int(list_pk))
        shown = list(mine.values_list("pk", flat=True)[: self.max_shown])
        return qs.filter(pk__in=shown)


@admin.register(NumberList)
class NumberListAdmin(DomainAdmin):
    list_display = ["name", "kind", "applies_to"]
    list_filter = ["kind", "applies_to"]
    list_select_related = ["tenant"]
    search_fields = ["name"]
    autocomplete_fields = ["tenant"]
    inlines = [NumberListEntryInline]


@admin.register(NumberListEntry)
class NumberListEntryAdmin(ConflictSafeAdminMixin, admin.ModelAdmin):
    list_display = ["value", "match", "number_list", "note", "tenant"]
    list_select_related = ["number_list__tenant"]
    list_filter = ["number_list__tenant", "match"]
    search_fields = ["=value", "value", "note", "number_list__name"]
    autocomplete_fields = ["number_list"]
    show_full_result_count = False  # no COUNT over 10,000s of entries per page view

    @admin.display(ordering="number_list__tenant__name")
    def tenant(self, obj):
        return obj.number_list.tenant


class ScheduleWindowInline(admin.TabularInline):
    model = ScheduleWindow
    extra = 0
    fields = ["weekdays", "start", "end"]


@admin.register(Schedule)
class ScheduleAdmin(DomainAdmin):
    list_display = ["name", "timezone"]
    list_select_related = ["tenant"]
    search_fields = ["name", "timezone"]
    autocomplete_fields = ["tenant"]
    inlines = [ScheduleWindowInline]


@admin.register(ScheduleWindow)
class ScheduleWindowAdmin(ConflictSafeAdminMixin, admin.ModelAdmin):
    list_display = ["schedule", "__str__", "tenant"]
    list_select_related = ["schedule__tenant"]
    list_filter = ["schedule__tenant"]
    search_fields = ["schedule__name"]
    autocomplete_fields = ["schedule"]

    @admin.display(ordering="schedule__tenant__name")
    def tenant(self, obj):
        return obj.schedule.tenant
