from django.urls import path

from dialpeers import options, views

app_name = "dialpeers"
urlpatterns = [
    path("", views.DialpeerListView.as_view(), name="dialpeer_list"),
    path("add/", views.DialpeerCreateView.as_view(), name="dialpeer_add"),
    path("bulk/", views.DialpeerBulkView.as_view(), name="dialpeer_bulk"),
    path("<int:pk>/", views.DialpeerDetailView.as_view(), name="dialpeer_detail"),
    path("<int:pk>/edit/", views.DialpeerUpdateView.as_view(), name="dialpeer_edit"),
    path("<int:pk>/delete/", views.DialpeerDeleteView.as_view(), name="dialpeer_delete"),
    path("options/trunks/", options.trunk_options, name="trunk_options"),
    path("options/trunk-search/", options.trunk_search, name="trunk_search"),
    path("options/customers/", options.customer_options, name="customer_options"),
    path("options/rules/", options.rule_options, name="rule_options"),
]
