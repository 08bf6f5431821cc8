"""Authentication and permission of the JSON API (kept apart from vmgate.api so DRF's
settings can import them without importing the viewsets)."""

import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from rest_framework import exceptions, permissions
from rest_framework.authentication import BaseAuthentication

from vmgate.models import APIToken, Membership
from vmgate.tenancy import SAFE_METHODS


class TokenCache:
    """Resolved tokens by key hash, kept ``ttl`` seconds per process.

    A machine (the SIP edge) sends every request with the same token; resolving it once a
    second instead of once a request saves a database round trip per call. In this process
    any change to a token, login or membership clears the cache at once (signals below);
    other processes see a revocation or a role change within ``ttl``.
    """

    ttl = 1.0
    max_entries = 10_000

    def __init__(self):
        self._entries = {}

    def get(self, key_hash):
        entry = self._entries.get(key_hash)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key_hash, value):
        if len(self._entries) >= self.max_entries:
            self._entries = {}
        self._entries[key_hash] = (time.monotonic() + self.ttl, value)

    def clear(self, *args, **kwargs):
        self._entries = {}


token_cache = TokenCache()


class TokenAuthentication(BaseAuthentication):
    """``Authorization: Token <key>``: one indexed lookup by the key's hash (cached for a
    second, see :class:`TokenCache`).

    Sets ``request.tenant`` / ``request.membership`` for the token's user (the session
    middleware only knows session users). ``last_used_at`` is written at most once a minute.
    """

    keyword = "Token"
    touch_interval = timedelta(seconds=60)

    def authenticate(self, request):
        found = self.authenticate_header_value(request.META.get("HTTP_AUTHORIZATION", ""))
        if found is None:
            return None
        token, membership = found
        django_request = request._request
        django_request.membership = membership
        django_request.tenant = membership.tenant if membership else None
        return token.user, token

    @classmethod
    def authenticate_header_value(cls, header):
        """(token, membership) for an ``Authorization`` header value; None when it names
        another scheme (or is empty); AuthenticationFailed for a malformed or unknown key.
        Shared by DRF and the route lookup's fast path (routing.engine.http)."""
        if not header:
            return None
        parts = header.split()
        if not parts or parts[0].lower() != cls.keyword.lower():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header.")
        key = parts[1]
        if len(key) > 200 or "\x00" in key:
            raise exceptions.AuthenticationFailed("Invalid token.")
        key_hash = APIToken.hash_key(key)
        resolved = token_cache.get(key_hash)
        if resolved is None:
            resolved = cls.resolve(key_hash)
            token_cache.put(key_hash, resolved)
        token, membership = resolved
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > cls.touch_interval:
            # APIToken has no history: a plain UPDATE keeps this one cheap statement.
            APIToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token, membership

    @staticmethod
    def resolve(key_hash):
        """(token, membership) for a key hash; (None, None) for an unknown or dead key."""
        found = list(
            APIToken.objects.select_related("user__membership__tenant")
            .filter(key_hash=key_hash)
            .order_by()[:1]
        )
        if not found or not found[0].user.is_active:
            return None, None
        token = found[0]
        try:
            membership = token.user.membership
        except Membership.DoesNotExist:
            membership = None
        return token, membership

    def authenticate_header(self, request):
        return self.keyword


for _model in (APIToken, Membership, get_user_model()):
    post_save.connect(token_cache.clear, sender=_model, dispatch_uid=f"token-cache-{_model}")
    post_delete.connect(token_cache.clear, sender=_model, dispatch_uid=f"token-cache-d-{_model}")


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
