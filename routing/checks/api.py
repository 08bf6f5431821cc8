"""API of the saved routing checks: ``/api/v1/routing-checks/``."""

from routing.checks.filtersets import RoutingCheckFilterSet
from routing.models import RoutingCheck
from vmgate.api import TenantModelSerializer, TenantModelViewSet


class RoutingCheckSerializer(TenantModelSerializer):
    class Meta(TenantModelSerializer.Meta):
        model = RoutingCheck
        fields = ["id", *RoutingCheck.EDITABLE_FIELDS, *RoutingCheck.RESULT_FIELDS]
        read_only_fields = list(RoutingCheck.RESULT_FIELDS)


class RoutingCheckViewSet(TenantModelViewSet):
    """Saved routing checks: (trunk or source IP, number) → expected outcome and rule."""

    model = RoutingCheck
    serializer_class = RoutingCheckSerializer
    filterset_class = RoutingCheckFilterSet
