"""Tenant pages that belong to no domain app (change log, API tokens)."""

from django.urls import path

from vmgate import views_changelog, views_tokens

app_name = "vmgate"
urlpatterns = [
    path("changes/", views_changelog.changelog, name="changelog"),
    path("tokens/", views_tokens.apitoken_list, name="apitoken_list"),
    path("tokens/add/", views_tokens.apitoken_add, name="apitoken_add"),
    path("tokens/<int:pk>/delete/", views_tokens.apitoken_delete, name="apitoken_delete"),
]
