from django.urls import path

from dialpeers import options

app_name = "dialpeers"
urlpatterns = [
    path("options/trunks/", options.trunk_options, name="trunk_options"),
    path("options/trunk-search/", options.trunk_search, name="trunk_search"),
    path("options/customers/", options.customer_options, name="customer_options"),
    path("options/rules/", options.rule_options, name="rule_options"),
]
