"""Tenant pages that belong to no domain app (change log, API tokens)."""

app_name = "vmgate"
urlpatterns = []
