from django.contrib import admin, messages
from django.db import IntegrityError
from django.http import HttpResponseRedirect
from simple_history.admin import SimpleHistoryAdmin

from vmgate.models import Membership, Tenant
from vmgate.views import CONFLICT_MESSAGE


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


class ConflictSafeAdminMixin:
    """A save the database refuses (a concurrent writer won the race past the form's
    validation: unique constraints, the one-active-code index, the trunk overlap constraint)
    is shown as the form again, validated anew, so its error names the winner — never a 500.

    The admin's own transaction is rolled back by then; the second pass validates against
    what the winner committed. Should that pass be refused too, the page says so."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except IntegrityError:
            if request.method != "POST":
                raise
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except IntegrityError:
            self.message_user(request, f"Nothing was saved. {CONFLICT_MESSAGE}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class DomainAdmin(ConflictSafeAdminMixin, TenantAdminMixin, SimpleHistoryAdmin):
    pass
