"""The JSON API's shared machinery: token auth, tenant permission, strict fields, base viewset.

- Authentication: ``Authorization: Token <key>`` (named per-user tokens, stored as SHA-256
  hashes) or the browser session (with CSRF). Token users are unknown to
  :class:`vmgate.tenancy.TenantMiddleware`, so the authentication class resolves their
  tenant and membership itself and puts them on the request.
- Permission: a tenant is required; a viewer (session or token) may only read.
- Serializers validate through the model's ``full_clean()`` (the same rules as the forms),
  and every foreign key is resolved through :func:`vmgate.tenancy.scoped`, so another
  tenant's id reads exactly like a missing one.
- A delete refused by ``PROTECT`` is a 409 naming what still uses the row.
- Request bodies are parsed strictly (a string field takes a JSON string, an integer field a
  JSON integer, …): the OpenAPI schema describes exactly what is accepted.
"""

import copy

import django_filters
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import exceptions, pagination, serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.settings import api_settings

from vmgate.api_auth import TenantPermission, TokenAuthentication
from vmgate.tenancy import TenantRequired, parse_pk, scoped
from vmgate.views import CONFLICT_MESSAGE, forget_failed_insert


def request_tenant(request):
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        raise TenantRequired("No tenant for this request")
    return tenant


class APIViewMixin:
    """Every API view: token or session auth, tenant permission, reachable without the
    login redirect (LoginRequiredMiddleware is for pages; the API answers 401 itself)."""

    # Session auth is DRF's: CSRF is enforced on unsafe methods.
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [TenantPermission]

    @classmethod
    def as_view(cls, *args, **kwargs):
        return login_not_required(super().as_view(*args, **kwargs))

    @property
    def tenant(self):
        return request_tenant(self.request)


# --------------------------------------------------------------------------- strict fields


class StrictTypeMixin:
    """Refuse JSON values of the wrong type instead of coercing them (``1`` for a string,
    ``"1"`` for an integer, ``"true"`` for a boolean): the schema says what is accepted."""

    expected_types = ()
    type_name = ""

    def to_internal_value(self, data):
        if self.expected_types and (
            not isinstance(data, self.expected_types)
            or (isinstance(data, bool) and bool not in self.expected_types)
        ):
            raise serializers.ValidationError(f"Must be a {self.type_name}.", code="invalid")
        return super().to_internal_value(data)


class StrictCharField(StrictTypeMixin, serializers.CharField):
    expected_types, type_name = (str,), "string"


class StrictChoiceField(StrictTypeMixin, serializers.ChoiceField):
    expected_types, type_name = (str,), "string"


class StrictEmailField(StrictTypeMixin, serializers.EmailField):
    expected_types, type_name = (str,), "string"


class StrictIntegerField(StrictTypeMixin, serializers.IntegerField):
    expected_types, type_name = (int,), "integer"


class StrictBooleanField(StrictTypeMixin, serializers.BooleanField):
    expected_types, type_name = (bool,), "boolean"


class StrictDecimalField(StrictTypeMixin, serializers.DecimalField):
    """Decimals travel as strings both ways (money must not pass through a float)."""

    expected_types, type_name = (str,), "decimal string"


class StrictDateTimeField(StrictTypeMixin, serializers.DateTimeField):
    expected_types, type_name = (str,), "ISO 8601 date-time string"


class StrictIPAddressField(StrictTypeMixin, serializers.IPAddressField):
    expected_types, type_name = (str,), "string"


class TenantPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key resolved among the request tenant's rows only (fail closed).

    Another tenant's id gets the very message of a missing one.
    """

    def get_queryset(self):
        request = self.context.get("request")
        return scoped(super().get_queryset(), request_tenant(request) if request else None)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


# --------------------------------------------------------------------------- serializers


def drf_errors(exc):
    """A Django ValidationError as DRF field errors (``__all__`` → ``non_field_errors``)."""
    if hasattr(exc, "error_dict"):
        out = {}
        for field, errors in exc.message_dict.items():
            key = api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field
            bucket = out.setdefault(key, [])
            bucket.extend(e for e in errors if e not in bucket)
        return out
    return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}


class TenantModelSerializer(serializers.ModelSerializer):
    # Validates through ``Model.full_clean()`` on a copy of the instance with the changes.
    # DRF's own unique validators are off: the model's constraints (checked by full_clean)
    # are the single source of truth, with the same messages the forms show.
    # ``extra_attrs`` names write-only extras (e.g. a trunk's networks) kept off the model.

    serializer_related_field = TenantPrimaryKeyRelatedField
    extra_attrs = ()

    class Meta:
        validators = []

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        strict = {
            serializers.CharField: StrictCharField,
            serializers.ChoiceField: StrictChoiceField,
            serializers.EmailField: StrictEmailField,
            serializers.IntegerField: StrictIntegerField,
            serializers.BooleanField: StrictBooleanField,
            serializers.DecimalField: StrictDecimalField,
            serializers.DateTimeField: StrictDateTimeField,
            serializers.IPAddressField: StrictIPAddressField,
        }
        return strict.get(field_class, field_class), kwargs

    @property
    def tenant(self):
        return request_tenant(self.context["request"])

    def model_attrs(self, attrs):
        return {k: v for k, v in attrs.items() if k not in self.extra_attrs}

    def build_instance(self, attrs):
        model = self.Meta.model
        instance = copy.copy(self.instance) if self.instance is not None else model()
        values = self.model_attrs(attrs)
        if self.instance is not None and not self.partial:
            # PUT replaces the object: a writable field left out takes its default.
            for name, field in self.fields.items():
                if field.read_only or name in values or name in self.extra_attrs:
                    continue
                model_field = model._meta.get_field(field.source)
                if model_field.has_default() or model_field.null or model_field.blank:
                    values[field.source] = model_field.get_default()
        for name, value in values.items():
            setattr(instance, name, value)
        if model.tenant_path == "tenant":
            instance.tenant = self.tenant
        return instance

    def full_clean(self, instance, attrs):
        """Run the model's validation; subclasses add checks of their extras here."""
        instance.full_clean()

    def validate(self, attrs):
        instance = self.build_instance(attrs)
        try:
            self.full_clean(instance, attrs)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(drf_errors(exc)) from exc
        self._clean_instance = instance
        return attrs

    def save_instance(self, instance, attrs):
        instance.save()

    def _save(self, validated_data):
        instance = self._clean_instance
        adding = instance._state.adding
        try:
            with transaction.atomic():
                self.save_instance(instance, validated_data)
        except IntegrityError as exc:
            # A concurrent request won the race past validation (the database refused this
            # write): validate again, now against what it committed, to name it.
            forget_failed_insert(instance, adding)
            try:
                self.full_clean(instance, validated_data)
            except DjangoValidationError as again:
                raise serializers.ValidationError(drf_errors(again)) from exc
            raise serializers.ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: [CONFLICT_MESSAGE]}
            ) from exc
        return instance

    def create(self, validated_data):
        return self._save(validated_data)

    def update(self, instance, validated_data):
        return self._save(validated_data)


# --------------------------------------------------------------------------- viewsets


class StrictFilterBackend(DjangoFilterBackend):
    """The UI's FilterSets, read strictly: a filter given twice, a boolean other than
    ``true``/``false`` or an empty typed filter is a 400 (in a page form, empty means "any";
    an API client that sends it has made a mistake the schema does not allow)."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        errors = {}
        for name, flt in filterset.filters.items():
            values = request.query_params.getlist(name)
            if not values:
                continue
            if len(values) > 1 and not isinstance(flt, django_filters.MultipleChoiceFilter):
                errors[name] = ["Give this filter once."]
            elif isinstance(flt, django_filters.BooleanFilter):
                if values[0] not in ("true", "false"):
                    errors[name] = ["Use true or false."]
            elif values[0] == "" and not isinstance(flt, django_filters.CharFilter):
                errors[name] = ["This filter needs a value."]
        if errors:
            raise exceptions.ValidationError(errors)
        return filterset


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This object is still in use."
    default_code = "conflict"


class StandardPagination(pagination.PageNumberPagination):
    """``?page=N&page_size=M`` (default 50, at most 500); a malformed page_size is a 400,
    not silently the default."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and not (raw.isascii() and raw.isdigit() and 1 <= int(raw)):
            raise exceptions.ValidationError(
                {self.page_size_query_param: ["A positive integer is required."]}
            )
        return super().get_page_size(request)

    def get_schema_operation_parameters(self, view):
        params = super().get_schema_operation_parameters(view)
        for param in params:
            if param["name"] == self.page_size_query_param:
                param["schema"].update({"minimum": 1})
            if param["name"] == self.page_query_param:
                param["schema"].update({"minimum": 1})
        return params


class TenantModelViewSet(APIViewMixin, viewsets.ModelViewSet):
    """List (filtered, paginated), retrieve, create, update, partial update, delete.

    Subclasses set ``model``, ``serializer_class`` and optionally ``filterset_class``,
    ``select_related`` and ``prefetch_related``.
    """

    model = None
    select_related = ()
    prefetch_related = ()
    pagination_class = StandardPagination
    filter_backends = [StrictFilterBackend]
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request tenant
            return self.model._default_manager.none()
        qs = scoped(self.model, self.tenant)
        if self.select_related:
            qs = qs.select_related(*self.select_related)
        if self.prefetch_related:
            qs = qs.prefetch_related(*self.prefetch_related)
        return qs

    def get_object(self):
        pk = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
        if parse_pk(pk) is None:
            from django.http import Http404

            raise Http404
        return super().get_object()

    def perform_destroy(self, instance):
        try:
            with transaction.atomic():
                instance.delete()
        except (ProtectedError, RestrictedError) as exc:
            objs = (
                exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
            )
            used_by = sorted({f"{o._meta.verbose_name} “{o}”" for o in objs})
            more = f" (and {len(used_by) - 5} more)" if len(used_by) > 5 else ""
            raise Conflict(
                f"“{instance}” cannot be deleted: it is still used by {', '.join(used_by[:5])}"
                f"{more}."
            ) from exc


class TenantPrimaryKeyFieldSchema(OpenApiSerializerFieldExtension):
    """In the OpenAPI schema a foreign key is an id: an integer ≥ 1 (0 or less is refused)."""

    target_class = TenantPrimaryKeyRelatedField

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "integer", "minimum": 1}
