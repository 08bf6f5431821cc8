"""API views that are not model CRUD: who am I, the OpenAPI schema and its offline docs."""

from django.contrib.auth.decorators import login_not_required
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from vmgate.api import APIViewMixin


class MeView(APIViewMixin, APIView):
    """The authenticated login, its tenant and role (also the API benchmark's baseline)."""

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "username": serializers.CharField(),
                "tenant": serializers.CharField(),
                "tenant_id": serializers.IntegerField(),
                "role": serializers.ChoiceField(choices=["operator", "viewer"]),
            },
        )
    )
    def get(self, request):
        membership = request.membership
        return Response(
            {
                "username": request.user.get_username(),
                "tenant": membership.tenant.name,
                # the SIP edge's group in the authorized-source table (deploy/kamailio)
                "tenant_id": membership.tenant_id,
                "role": membership.role,
            }
        )


class PublicMixin:
    """The schema and its docs describe the API, not tenant data: readable without login."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @classmethod
    def as_view(cls, *args, **kwargs):
        return login_not_required(super().as_view(*args, **kwargs))


class SchemaView(PublicMixin, SpectacularAPIView):
    """OpenAPI 3 schema of /api/v1/ (YAML by default, ``?format=json`` for JSON)."""


class DocsView(PublicMixin, SpectacularSwaggerView):
    """Swagger UI served from our own static files (drf-spectacular-sidecar): no CDN."""
