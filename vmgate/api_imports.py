"""``POST /api/v1/imports/``: a bulk import over the API (SPEC §8).

A multipart upload (``kind``, ``file``, ``mode``, ``rate_plan``, ``dry_run``) answered with
the preview as JSON (:meth:`vmgate.imports.ImportResult.as_dict`), applied unless
``dry_run``; the one code path is :func:`vmgate.imports.run_import`, as for the page and
the ``import_data`` command.

- 200: the import applied (``"applied": true``, ``run`` = the change-log entry), or a dry
  run without errors (``"applied": false``).
- 400 with the preview: a row or the file has an error; nothing is written.
- 400 with field errors (``{"field": ["message"]}``): a missing or unknown kind or mode, no
  file, an empty or too large file, a missing or unknown rate plan for rates (another
  tenant's plan is unknown), a rate plan for another kind.
- An import is a write: viewers get 403, like every other write of the API.
"""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.models import RatePlan
from vmgate.api import APIViewMixin
from vmgate.import_kinds import KINDS
from vmgate.imports import DEFAULT_MODE, MAX_BYTES, MODES, TRUE_WORDS, run_import, too_large
from vmgate.tenancy import scoped

# --------------------------------------------------------------------------- request


class ImportChoiceField(serializers.ChoiceField):
    """A choice whose OpenAPI enum is its own named component (``ImportKindEnum``): the
    generic name ``KindEnum`` already belongs to the balance entries' ``kind``."""

    def __init__(self, *, enum_name, **kwargs):
        self.enum_name = enum_name
        super().__init__(**kwargs)


class ImportChoiceFieldSchema(OpenApiSerializerFieldExtension):
    target_class = ImportChoiceField

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        component = ResolvedComponent(
            name=field.enum_name,
            type=ResolvedComponent.SCHEMA,
            object=field.enum_name,
            schema={"type": "string", "enum": list(field.choices)},
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


class FormBooleanField(serializers.BooleanField):
    """A boolean form field: ``true``/``false`` (also ``1``/``0``, ``yes``/``no``, any
    case), as the import files' booleans read; anything else is an error, never false."""

    WORDS = TRUE_WORDS
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        if isinstance(data, str) and data.strip().lower() in self.WORDS:
            return self.WORDS[data.strip().lower()]
        self.fail("invalid")


class ImportSerializer(serializers.Serializer):  # component "ImportRequest"
    """An upload to import: the kind, the file, the mode, the rate plan (rates) and
    whether to only preview it."""

    kind = ImportChoiceField(
        enum_name="ImportKindEnum",
        choices=[],
        help_text="What the file holds; its columns are the export's of the same list.",
    )
    file = serializers.FileField(
        help_text="CSV (UTF-8 with or without BOM; comma, semicolon or tab) or XLSX (first "
        "sheet), with a header row naming the columns.",
    )
    mode = ImportChoiceField(
        enum_name="ImportModeEnum",
        choices=MODES,
        required=False,
        default=DEFAULT_MODE,
        help_text="add: existing rows are errors; update: create and update; replace: the "
        "file becomes the whole set (absent rows are deleted).",
    )
    rate_plan = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Rates only (and required for them): the name of the rate plan the rates "
        "go into.",
    )
    dry_run = FormBooleanField(
        required=False,
        default=False,
        help_text="true: answer the preview and write nothing.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The kinds registered now (a kind added later is offered without a change here).
        self.fields["kind"].choices = list(KINDS)

    def validate_file(self, upload):
        if upload.size is not None and upload.size > MAX_BYTES:
            raise serializers.ValidationError(too_large(upload.size))
        return upload

    def validate(self, attrs):
        kind = KINDS[attrs["kind"]]
        name = attrs.get("rate_plan", "")
        attrs["plan"] = None
        if kind.needs_rate_plan:
            if not name:
                raise serializers.ValidationError(
                    {"rate_plan": [f"{kind.plural.capitalize()} go into a rate plan: name it."]}
                )
            tenant = self.context["tenant"]
            attrs["plan"] = scoped(RatePlan, tenant).filter(name=name).first()
            if attrs["plan"] is None:
                raise serializers.ValidationError({"rate_plan": [f"Rate plan “{name}” not found."]})
        elif name:
            raise serializers.ValidationError(
                {"rate_plan": [f"Only rates go into a rate plan, not {kind.plural}."]}
            )
        return attrs


def upload_name(upload):
    """The uploaded file's name, printable (it is shown and kept in the change log)."""
    name = "".join(ch for ch in (upload.name or "") if ch.isprintable()).strip()
    return name[:200] or "upload"


# --------------------------------------------------------------------------- response


class ImportCountsSerializer(serializers.Serializer):
    create = serializers.IntegerField()
    update = serializers.IntegerField()
    delete = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    error = serializers.IntegerField(help_text="Rows with at least one error.")


class ImportRowErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(
        allow_null=True, help_text="Line of the file (null: a row absent from the file)."
    )
    column = serializers.CharField(allow_null=True, help_text="null: the row as a whole.")
    message = serializers.CharField()


class ImportColumnChangeSerializer(serializers.Serializer):
    column = serializers.CharField()
    old = serializers.CharField(allow_blank=True)
    new = serializers.CharField(allow_blank=True)


class ImportRowChangeSerializer(serializers.Serializer):
    line = serializers.IntegerField(allow_null=True)
    row = serializers.CharField(allow_blank=True)
    changes = ImportColumnChangeSerializer(many=True)


class ImportChangesSerializer(serializers.Serializer):
    create = ImportRowChangeSerializer(many=True, required=False)
    update = ImportRowChangeSerializer(many=True, required=False)
    delete = ImportRowChangeSerializer(many=True, required=False)
    unchanged = ImportRowChangeSerializer(many=True, required=False)


class ImportCheckChangeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    before = serializers.CharField()
    after = serializers.CharField()
    passed_before = serializers.BooleanField()
    passed_after = serializers.BooleanField()


class ImportPreviewSerializer(serializers.Serializer):  # component "ImportPreview"
    """What the import would do (or did): counts, errors with line and column, the first
    rows of each action with their changes, and the saved routing checks whose outcome
    changes."""

    kind = ImportChoiceField(enum_name="ImportKindEnum", choices=[])
    mode = ImportChoiceField(enum_name="ImportModeEnum", choices=MODES)
    file = serializers.CharField(help_text="The uploaded file's name.")
    applied = serializers.BooleanField(help_text="true: written (one change-log entry, run).")
    counts = ImportCountsSerializer()
    file_error = serializers.CharField(
        allow_null=True, help_text="Why the file as a whole cannot be read (or null)."
    )
    errors = ImportRowErrorSerializer(
        many=True, help_text="The first errors (errors_total counts all)."
    )
    errors_total = serializers.IntegerField()
    changes = ImportChangesSerializer(
        help_text="The first rows of each action, with their changed columns."
    )
    checks = ImportCheckChangeSerializer(many=True)
    run = serializers.IntegerField(allow_null=True, help_text="The change-log entry's id.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = list(KINDS)


# --------------------------------------------------------------------------- view


class ImportView(APIViewMixin, APIView):
    """Import a CSV or XLSX file: answer the preview, and apply it unless ``dry_run``.

    200 when it applied (``applied`` true) or a dry run found no error; 400 with the
    preview when a row or the file has an error (nothing is written); 400 with field
    errors for a request that cannot be run. All or nothing, in one transaction, with one
    change-log entry; an import reads and writes this tenant's rows only."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="imports_create",
        request={"multipart/form-data": ImportSerializer},
        responses={
            200: ImportPreviewSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Field errors (field name → messages), or the preview "
                "(ImportPreview) when a row or the file has an error; nothing is written.",
            ),
            415: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Unsupported media type: send multipart/form-data.",
            ),
        },
    )
    def post(self, request):
        params = ImportSerializer(data=request.data, context={"tenant": self.tenant})
        params.is_valid(raise_exception=True)
        data = params.validated_data
        upload = data["file"]
        result = run_import(
            self.tenant,
            KINDS[data["kind"]],
            upload_name(upload),
            upload.read(),
            mode=data["mode"],
            rate_plan=data["plan"],
            apply=not data["dry_run"],
            user=request.user,
        )
        return Response(result.as_dict(), status=200 if result.ok else 400)
