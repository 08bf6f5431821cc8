from django.contrib import admin

from dialpeers.models import Dialpeer
from vmgate.admin import DomainAdmin


@admin.register(Dialpeer)
class DialpeerAdmin(DomainAdmin):
    list_display = ["name", "customer", "rule", "trunk", "is_active"]
    list_filter = ["is_active"]
    list_select_related = ["tenant", "customer", "rule", "trunk__customer"]
    search_fields = ["name", "rule__code", "rule__label", "customer__name"]
    autocomplete_fields = ["tenant", "customer", "trunk", "rule"]
