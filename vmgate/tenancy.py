"""The current tenant, and the one choke point that scopes querysets to it.

Every view, form field and API viewset gets its rows from :func:`scoped`. A model takes
part in tenancy by declaring ``tenant_path`` (the lookup from the model to its Tenant, e.g.
``"trunk__tenant"``). Scoping fails closed: no tenant, or a model without ``tenant_path``,
raises instead of returning unscoped rows.
"""

from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import models
from django.http import Http404

from vmgate.models import INVALID_CHOICE, Membership

SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")
MAX_PK = 2**63 - 1


def parse_pk(value):
    """A submitted id (form field, query parameter, URL part) as a positive int that fits a
    bigint primary key, or None for anything else (empty, signs, NUL, non-ASCII digits,
    overlong), so a bad id never reaches the database as an error."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 < value <= MAX_PK else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value) or None
    return None


class TenantRequired(PermissionDenied):
    """Raised when tenant data is asked for without a tenant."""


def tenant_path(model):
    path = getattr(model, "tenant_path", None)
    if not path:
        raise ImproperlyConfigured(f"{model.__name__} declares no tenant_path")
    return path


def is_tenant_model(model):
    return bool(getattr(model, "tenant_path", None))


def scoped(model_or_qs, tenant):
    """Return the rows of ``model_or_qs`` that belong to ``tenant``.

    Accepts a model class or a queryset (which is narrowed further).
    """
    if tenant is None or getattr(tenant, "pk", None) is None:
        raise TenantRequired("No tenant for this request")
    if isinstance(model_or_qs, models.QuerySet):
        qs = model_or_qs
    else:
        qs = model_or_qs._default_manager.all()
    return qs.filter(**{tenant_path(qs.model): tenant})


def tenant_or_404(request):
    """The page request's tenant; a login without one (support staff) gets a 404."""
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        raise Http404("No tenant for this login")
    return tenant


def require_operator(request):
    """The request's tenant, for a write only operators may make (viewers: 403)."""
    tenant = tenant_or_404(request)
    membership = getattr(request, "membership", None)
    if membership is None or not membership.can_write:
        raise PermissionDenied("Viewers have read-only access.")
    return tenant


def tenant_of(obj):
    """The Tenant a row belongs to, following its tenant_path."""
    value = obj
    for part in tenant_path(type(obj)).split("__"):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def check_same_tenant(tenant_id, **related):
    """Validation errors for related rows that belong to another tenant.

    ``related`` maps a field name to a row (or None). Another tenant's row reads exactly
    like a missing one: the message is Django's "Select a valid choice".
    """
    errors = {}
    for field, obj in related.items():
        if obj is None:
            continue
        other = tenant_of(obj)
        if tenant_id is None or other is None or other.pk != tenant_id:
            errors[field] = INVALID_CHOICE
    return errors


class TenantMiddleware:
    """Sets ``request.tenant`` and ``request.membership`` for logged-in operators.

    Viewers may read; any state-changing request they make is refused with 403 here, so a
    view that forgets the check cannot leak write access. Logout stays allowed.

    A login without a tenant (support staff, or a user not yet given a membership) has no
    tenant pages: support staff are sent to the admin, anyone else to the home page, which
    says the login belongs to no tenant.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.tenant = None
        request.membership = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            membership = Membership.objects.select_related("tenant").filter(user=user).first()
            if membership is not None:
                request.membership = membership
                request.tenant = membership.tenant
                if (
                    request.method not in SAFE_METHODS
                    and not membership.can_write
                    and not request.path.startswith(("/accounts/logout", "/api/"))
                ):
                    raise PermissionDenied("Viewers have read-only access.")
            elif not request.path.startswith(TENANTLESS_PATHS):
                redirect = _tenantless_redirect(request, user)
                if redirect is not None:
                    return redirect
        return self.get_response(request)


#: Pages a login without a tenant may still open (the API answers for itself).
TENANTLESS_PATHS = ("/admin/", "/accounts/", "/api/", "/static/", "/favicon.ico")


def _tenantless_redirect(request, user):
    """Where a login without a tenant goes instead of a tenant page: support staff to the
    admin, anyone else to the home page (which explains); the home page itself renders for
    a non-staff login."""
    from django.http import HttpResponseRedirect
    from django.urls import reverse

    if user.is_staff:
        return HttpResponseRedirect(reverse("admin:index"))
    home = reverse("home")
    if request.path == home:
        return None
    return HttpResponseRedirect(home)
