"""Tenant pages that belong to no domain app (change log, API tokens)."""

from django.urls import path

from vmgate import views_changelog, views_imports, views_tokens

app_name = "vmgate"
urlpatterns = [
    path("changes/", views_changelog.changelog, name="changelog"),
    path("imports/<int:pk>/", views_imports.import_preview, name="importupload_detail"),
    path("imports/<int:pk>/apply/", views_imports.import_apply, name="importupload_apply"),
    path("imports/<int:pk>/cancel/", views_imports.import_cancel, name="importupload_cancel"),
    path("imports/runs/<int:pk>/", views_imports.import_run, name="importrun_detail"),
    path("imports/<slug:kind>/", views_imports.import_new, name="importupload_add"),
    path("tokens/", views_tokens.apitoken_list, name="apitoken_list"),
    path("tokens/add/", views_tokens.apitoken_add, name="apitoken_add"),
    path("tokens/<int:pk>/delete/", views_tokens.apitoken_delete, name="apitoken_delete"),
]
