"""URLs of the JSON API under /api/v1/ (namespace ``api``, so names never clash with the UI's)."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from customers.api import (
    BalanceEntryViewSet,
    CustomerViewSet,
    RatePlanViewSet,
    RateViewSet,
    TrunkViewSet,
)
from dialpeers.api import DialpeerViewSet
from routing.api import (
    NetworkViewSet,
    NumberListEntryViewSet,
    NumberListViewSet,
    RoutingRuleViewSet,
    RoutingTargetViewSet,
    ScheduleViewSet,
    ScheduleWindowViewSet,
    TranslationRuleViewSet,
    TranslationSetViewSet,
    VMGateClientViewSet,
)
from routing.checks.api import RoutingCheckViewSet
from routing.engine.http import RouteView
from vmgate import api_imports, api_views

app_name = "api"


class Router(DefaultRouter):
    include_root_view = False


router = Router(trailing_slash=True)
router.register("customers", CustomerViewSet, basename="customer")
router.register("balance-entries", BalanceEntryViewSet, basename="balanceentry")
router.register("trunks", TrunkViewSet, basename="trunk")
router.register("rate-plans", RatePlanViewSet, basename="rateplan")
router.register("rates", RateViewSet, basename="rate")
router.register("networks", NetworkViewSet, basename="network")
router.register("clients", VMGateClientViewSet, basename="vmgateclient")
router.register("routing-rules", RoutingRuleViewSet, basename="routingrule")
router.register("routing-targets", RoutingTargetViewSet, basename="routingtarget")
router.register("dialpeers", DialpeerViewSet, basename="dialpeer")
router.register("routing-checks", RoutingCheckViewSet, basename="routingcheck")
router.register("translation-sets", TranslationSetViewSet, basename="translationset")
router.register("translation-rules", TranslationRuleViewSet, basename="translationrule")
router.register("number-lists", NumberListViewSet, basename="numberlist")
router.register("number-list-entries", NumberListEntryViewSet, basename="numberlistentry")
router.register("schedules", ScheduleViewSet, basename="schedule")
router.register("schedule-windows", ScheduleWindowViewSet, basename="schedulewindow")

urlpatterns = [
    path("me/", api_views.MeView.as_view(), name="me"),
    path("route/", RouteView.as_view(), name="route"),
    path("imports/", api_imports.ImportView.as_view(), name="imports"),
    path("schema/", api_views.SchemaView.as_view(), name="schema"),
    path("docs/", api_views.DocsView.as_view(url_name="api:schema"), name="docs"),
    *router.urls,
]
