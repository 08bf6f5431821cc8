"""API of the dialpeers app."""

from dialpeers.filtersets import DialpeerFilterSet
from dialpeers.models import Dialpeer
from vmgate.api import TenantModelSerializer, TenantModelViewSet


class DialpeerSerializer(TenantModelSerializer):
    class Meta(TenantModelSerializer.Meta):
        model = Dialpeer
        fields = ["id", "name", "customer", "trunk", "rule", "is_active"]


class DialpeerViewSet(TenantModelViewSet):
    """Dialpeers: links from a customer's trunk to a routing rule.

    ``PATCH /api/v1/dialpeers/{id}/ {"is_active": false}`` deactivates one.
    """

    model = Dialpeer
    serializer_class = DialpeerSerializer
    filterset_class = DialpeerFilterSet
