from django.urls import path

from customers import options, views
from customers.models import Customer

app_name = "customers"
urlpatterns = [
    path("", views.CustomerListView.as_view(), name="customer_list"),
    path("add/", views.CustomerCreateView.as_view(), name="customer_add"),
    path("<int:pk>/", views.CustomerDetailView.as_view(), name="customer_detail"),
    path("<int:pk>/edit/", views.CustomerUpdateView.as_view(), name="customer_edit"),
    path("<int:pk>/delete/", views.CustomerDeleteView.as_view(), name="customer_delete"),
    path(
        "<int:pk>/block/",
        views.CustomerStatusView.as_view(new_status=Customer.BLOCKED),
        name="customer_block",
    ),
    path(
        "<int:pk>/unblock/",
        views.CustomerStatusView.as_view(new_status=Customer.ACTIVE),
        name="customer_unblock",
    ),
    path(
        "<int:pk>/payments/add/",
        views.BalanceEntryCreateView.as_view(),
        name="balanceentry_add",
    ),
    path("trunks/", views.TrunkListView.as_view(), name="trunk_list"),
    path("trunks/add/", views.TrunkCreateView.as_view(), name="trunk_add"),
    path("trunks/<int:pk>/", views.TrunkDetailView.as_view(), name="trunk_detail"),
    path("trunks/<int:pk>/edit/", views.TrunkUpdateView.as_view(), name="trunk_edit"),
    path("trunks/<int:pk>/delete/", views.TrunkDeleteView.as_view(), name="trunk_delete"),
    path("rateplans/", views.RatePlanListView.as_view(), name="rateplan_list"),
    path("rateplans/add/", views.RatePlanCreateView.as_view(), name="rateplan_add"),
    path("rateplans/<int:pk>/", views.RatePlanDetailView.as_view(), name="rateplan_detail"),
    path("rateplans/<int:pk>/edit/", views.RatePlanUpdateView.as_view(), name="rateplan_edit"),
    path("rateplans/<int:pk>/delete/", views.RatePlanDeleteView.as_view(), name="rateplan_delete"),
    path(
        "rateplans/<int:plan_pk>/destinations/",
        views.RateListView.as_view(),
        name="rate_list",
    ),
    path(
        "rateplans/<int:plan_pk>/destinations/add/",
        views.RateCreateView.as_view(),
        name="rate_add",
    ),
    path("rates/<int:pk>/", views.RateDetailView.as_view(), name="rate_detail"),
    path("rates/<int:pk>/edit/", views.RateUpdateView.as_view(), name="rate_edit"),
    path("rates/<int:pk>/delete/", views.RateDeleteView.as_view(), name="rate_delete"),
    path("rates/describe/", views.rate_describe, name="rate_describe"),
    # Options endpoints of the searchable selects (vmgate/widgets.py)
    path("options/customers/", options.customer_options, name="customer_options"),
    path("options/trunks/", options.trunk_options, name="trunk_options"),
]
