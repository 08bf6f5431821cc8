from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from vmgate.models import Membership, Tenant


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "currency"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "tenant", "role"]
    list_filter = ["tenant", "role"]
    list_select_related = ["user", "tenant"]
    search_fields = ["user__username", "tenant__name"]
    autocomplete_fields = ["user", "tenant"]


class TenantAdminMixin:
    """Tenant as a column and a filter on every domain changelist."""

    def get_list_display(self, request):
        return ["tenant", *super().get_list_display(request)]

    def get_list_filter(self, request):
        return ["tenant", *super().get_list_filter(request)]


class DomainAdmin(TenantAdminMixin, SimpleHistoryAdmin):
    pass
