"""Authentication and permission of the JSON API (kept apart from vmgate.api so DRF's
settings can import them without importing the viewsets)."""

from datetime import timedelta

from django.utils import timezone
from rest_framework import exceptions, permissions
from rest_framework.authentication import BaseAuthentication

from vmgate.models import APIToken, Membership
from vmgate.tenancy import SAFE_METHODS


class TokenAuthentication(BaseAuthentication):
    """``Authorization: Token <key>``: one indexed lookup by the key's hash.

    Sets ``request.tenant`` / ``request.membership`` for the token's user (the session
    middleware only knows session users). ``last_used_at`` is written at most once a minute.
    """

    keyword = "Token"
    touch_interval = timedelta(seconds=60)

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        parts = header.split()
        if not parts or parts[0].lower() != self.keyword.lower():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header.")
        key = parts[1]
        if len(key) > 200 or "\x00" in key:
            raise exceptions.AuthenticationFailed("Invalid token.")
        token = (
            APIToken.objects.select_related("user__membership__tenant")
            .filter(key_hash=APIToken.hash_key(key))
            .first()
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid token.")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > self.touch_interval:
            # APIToken has no history: a plain UPDATE keeps this one cheap statement.
            APIToken.objects.filter(pk=token.pk).update(last_used_at=now)
        try:
            membership = token.user.membership
        except Membership.DoesNotExist:
            membership = None
        django_request = request._request
        django_request.membership = membership
        django_request.tenant = membership.tenant if membership else None
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class TenantPermission(permissions.BasePermission):
    """A tenant login is required; viewers read only."""

    message = "This login belongs to no tenant."

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        membership = getattr(request, "membership", None)
        if membership is None:
            self.message = "This login belongs to no tenant."
            return False
        if request.method in SAFE_METHODS:
            return True
        if not membership.can_write:
            self.message = "Viewers have read-only access."
            return False
        return True


# --------------------------------------------------------------------------- schema

try:
    from drf_spectacular.extensions import OpenApiAuthenticationExtension
    from drf_spectacular.plumbing import build_bearer_security_scheme_object
except ImportError:  # pragma: no cover - drf-spectacular is a runtime requirement
    OpenApiAuthenticationExtension = None

if OpenApiAuthenticationExtension is not None:

    class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
        target_class = "vmgate.api_auth.TokenAuthentication"
        name = "tokenAuth"

        def get_security_definition(self, auto_schema):
            return build_bearer_security_scheme_object(
                header_name="Authorization", token_prefix="Token"
            )
