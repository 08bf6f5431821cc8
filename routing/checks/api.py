"""API of the saved routing checks: ``/api/v1/routing-checks/``."""

from routing.checks.filtersets import RoutingCheckFilterSet
from routing.models import RoutingCheck
from vmgate.api import TenantModelSerializer, TenantModelViewSet


class RoutingCheckSerializer(TenantModelSerializer):
    class Meta(TenantModelSerializer.Meta):
        model = RoutingCheck
        fields = [
            "id",
            "name",
            "trunk",
            "source_ip",
            "called_number",
            "at",
            "expected_outcome",
            "expected_reason",
            "expected_rule",
            "last_passed",
            "last_result",
            "last_run_at",
        ]
        read_only_fields = ["last_passed", "last_result", "last_run_at"]


class RoutingCheckViewSet(TenantModelViewSet):
    """Saved routing checks: (trunk or source IP, number) → expected outcome and rule."""

    model = RoutingCheck
    serializer_class = RoutingCheckSerializer
    filterset_class = RoutingCheckFilterSet
