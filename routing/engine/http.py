"""The route lookup over HTTP: ``POST /api/v1/route/``.

* :class:`RouteView` — the DRF view (validation with field errors, OpenAPI schema, both
  answer shapes: the decision's JSON and Kamailio's rtjson document);
* :func:`quick_lookup` — the plain common case validated without the serializer;
* the **WSGI fast path** (:class:`FastRouteMiddleware`, wrapped around the Django
  application in ``vmgate.wsgi``), which answers plain lookups in front of Django.

The fast path:
The route lookup's hot path: ``POST /api/v1/route/`` answered in front of Django's
middleware stack and DRF, for the plain requests the SIP edge sends.

Why: the decision itself takes ~0.06 ms from the in-process index, but the same request
through Django's 12 middlewares, DRF's content negotiation, parser, authentication,
permission and renderer cost ~3 ms of CPU per call, which capped the SIP edge at about
150 calls/s on two cores (bench/README.md, "SIP edge" and "JSON API").

What it answers here: exactly the requests :func:`fast_answer` recognises as plain —
POST to an allowed ``Host`` (ALLOWED_HOSTS, as Django checks it), query string empty / ``format=json`` / ``format=rtjson``, a JSON body (at most
4 KiB, ``Content-Type: application/json``) that :func:`quick_lookup` accepts,
an ``Accept`` that DRF would answer with plain JSON, and a valid ``Authorization: Token``
of a tenant login (any role: a lookup only reads). It calls the same pieces the DRF view
calls (the token authentication, ``quick_lookup``, ``engine.route_call``, ``as_dict`` /
``rtjson_document``) and renders the JSON the way DRF's JSONRenderer does (compact, UTF-8),
with the same security headers.

Everything else — any doubt about the request, a missing or bad token, a viewer-less
login, a malformed body, an unknown trunk, an error — goes on, untouched, to the Django
application, so every refusal keeps exactly one implementation (DRF's, with field errors)
and this module never decides a 4xx itself. tests/api/test_fast_route.py checks that both
paths answer the same bytes for the same requests.
"""

import io
import json
import logging

from django.conf import settings
from django.core import signals
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from routing import engine
from routing.engine.forward import Forwarder
from routing.models import NumberList
from vmgate.api import (
    APIViewMixin,
    StrictBooleanField,
    StrictCharField,
    StrictDateTimeField,
    StrictIntegerField,
)
from vmgate.api_auth import TenantPermission, TokenAuthentication
from vmgate.api_schema import NO_NUL

# --------------------------------------------------------------------------- route lookup


class RouteLookupSerializer(serializers.Serializer):
    """A route lookup: the called number and exactly one of ``trunk`` and ``source_ip``."""

    called_number = StrictCharField(
        max_length=64,
        allow_blank=True,
        trim_whitespace=False,
        help_text="The raw called number (R-URI user part), tech prefix included.",
    )
    trunk = StrictIntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text="Ingress trunk id (instead of source_ip).",
    )
    source_ip = StrictCharField(
        required=False,
        max_length=64,
        trim_whitespace=False,
        help_text="Source IP of the INVITE (instead of trunk); IPv4 or IPv6.",
    )
    calling_number = StrictCharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=25,
        trim_whitespace=False,
        help_text="The calling number (From user part), checked by the trunk's calling-number "
        "lists: an optional + and 1–24 digits. Omitted, null or empty: not given.",
    )
    at = StrictDateTimeField(
        required=False,
        help_text="Call time for the rate lookup and schedules (ISO 8601; default now).",
    )
    explain = StrictBooleanField(
        required=False,
        default=False,
        help_text="List every candidate rule and skipped target; never advances the rotation.",
    )

    def validate_source_ip(self, value):
        try:
            engine.parse_source_ip(value)
        except engine.IngressError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return value

    def validate_calling_number(self, value):
        try:
            engine.calling_digits(value)
        except engine.IngressError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return value

    def validate(self, attrs):
        if ("trunk" in attrs) == ("source_ip" in attrs):
            raise serializers.ValidationError("Give exactly one of trunk and source_ip.")
        return attrs


def _nullable(serializer):
    serializer.allow_null = True
    return serializer


class _Named(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class _TrunkRef(_Named):
    tech_prefix = serializers.CharField()


class _RuleRef(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField(allow_blank=True)
    label = serializers.CharField(allow_blank=True)
    name = serializers.CharField()
    assignment = serializers.CharField()
    trunk_id = serializers.IntegerField(allow_null=True)


class _ClientRef(_Named):
    sip_uri = serializers.CharField(allow_blank=True)
    active_calls = serializers.IntegerField()


class _SlotRef(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()


class _Target(serializers.Serializer):
    number = serializers.CharField(
        help_text="The number this target dials: the decision's number, translated by the "
        "egress set of the client's network."
    )
    client = _ClientRef()
    sim_slot = _SlotRef(allow_null=True)
    target_id = serializers.IntegerField()
    via = serializers.ChoiceField(choices=["network", "client", "sim_slot"])
    priority = serializers.IntegerField()
    weight = serializers.IntegerField()


class _NumberListRef(_Named):
    kind = serializers.ChoiceField(choices=NumberList.KIND_CHOICES)
    applies_to = serializers.ChoiceField(choices=NumberList.APPLIES_CHOICES)


class _Rate(serializers.Serializer):
    id = serializers.IntegerField()
    plan = _Named()
    code = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    valid_since = serializers.DateTimeField()
    rate_per_min = serializers.DecimalField(max_digits=12, decimal_places=6)
    connection_fee = serializers.DecimalField(max_digits=12, decimal_places=6)
    connection_sec = serializers.IntegerField()
    billing_block_sec = serializers.IntegerField()
    currency = serializers.CharField()


REASONS = engine.REASONS


class RouteDecisionSerializer(serializers.Serializer):
    """The decision of SPEC §5 (``RouteDecision.as_dict()``); with ``explain`` it also
    carries ``candidates``, ``candidates_omitted``, ``skipped_targets`` and ``steps``."""

    outcome = serializers.ChoiceField(choices=[engine.ROUTED, engine.REJECTED])
    reason = serializers.ChoiceField(choices=REASONS)
    sip_code = serializers.IntegerField(allow_null=True)
    sip_reason = serializers.CharField(allow_blank=True)
    called_number = serializers.CharField(allow_blank=True)
    number = serializers.CharField(
        allow_blank=True, help_text="After the tech prefix and the ingress translation."
    )
    calling_number = serializers.CharField(allow_null=True)
    at = serializers.DateTimeField(allow_null=True)
    customer = _Named(allow_null=True)
    trunk = _TrunkRef(allow_null=True)
    dialpeer = _Named(allow_null=True)
    rule = _RuleRef(allow_null=True)
    targets = _Target(many=True)
    rate = _Rate(allow_null=True)
    unbilled = serializers.BooleanField()
    number_list = _NumberListRef(
        allow_null=True, help_text="The list that refused the call (number_blocked)."
    )
    rewrites = serializers.ListField(child=serializers.DictField(), required=False)
    candidates = serializers.ListField(child=serializers.DictField(), required=False)
    candidates_omitted = serializers.IntegerField(required=False)
    skipped_targets = serializers.ListField(child=serializers.DictField(), required=False)
    steps = serializers.ListField(child=serializers.DictField(), required=False)


class _RtjsonRoute(serializers.Serializer):
    uri = serializers.CharField()


class _RtjsonRule(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField(allow_blank=True)
    label = serializers.CharField(allow_blank=True)
    name = serializers.CharField()


class _RtjsonTrunk(serializers.Serializer):
    """The ingress trunk: the SIP edge counts its calls per second against Trunk.max_cps."""

    id = serializers.IntegerField()


class RtjsonSerializer(serializers.Serializer):  # component "Rtjson"
    """The routing document Kamailio's ``rtjson`` module reads, plus the decision's answer.

    One route per target, in order; ``sip_code`` is null for ``unknown_source`` (the edge
    must not reply)."""

    version = serializers.ChoiceField(choices=["1.0"])
    routing = serializers.ChoiceField(choices=["serial"])
    routes = _RtjsonRoute(many=True)
    edge = serializers.CharField(
        help_text="What the SIP edge reads, colon-separated, empty where null: sip_code, "
        "reason, trunk id, dialpeer id, rule id, rule code, sip_reason."
    )
    contacts = serializers.CharField(
        allow_blank=True,
        help_text="The routes' URIs in order, separated by |, for the SIP edge's Contacts.",
    )
    outcome = serializers.ChoiceField(choices=[engine.ROUTED, engine.REJECTED])
    reason = serializers.ChoiceField(choices=REASONS)
    sip_code = serializers.IntegerField(allow_null=True)
    sip_reason = serializers.CharField(allow_blank=True)
    dialpeer = _Named(allow_null=True)
    rule = _RtjsonRule(allow_null=True)
    trunk = _RtjsonTrunk(allow_null=True)


def edge_line(decision):
    """What the SIP edge reads of the answer, in one string it splits with string operations
    (``sip_code:reason:trunk id:dialpeer id:rule id:rule code:sip_reason``, empty where
    null): Kamailio's ``{json.parse}`` parses the whole document each time, and reading six
    fields that way was a third of the edge's instructions per call (bench/README.md)."""
    rule, dialpeer, trunk = decision.rule, decision.dialpeer, decision.trunk
    fields = (
        decision.sip_code,
        decision.reason,
        trunk.id if trunk else None,
        dialpeer.id if dialpeer else None,
        rule.id if rule else None,
        rule.code if rule else None,
        decision.sip_reason,
    )
    return ":".join("" if value is None else str(value) for value in fields)


def contact_uris(decision):
    """The decision's targets as Contact URIs, in order, each with the number it dials as
    its user part (a client without a usable ``sip_uri`` gets none)."""
    uris = []
    for target in decision.targets:
        uri = target.contact
        if uri:
            uris.append(uri)
    return uris


def edge_text(decision):
    """``?format=edge``: what the SIP edge reads, and nothing else, as two lines of text: the
    :func:`edge_line` and the Contact URIs ``|``-separated (a SIP URI has no unescaped
    ``|``). The edge reads them with string operations; parsing a JSON document with
    ``{json.parse}`` was 30 % of its instructions per call (bench/README.md)."""
    return f"{edge_line(decision)}\n{'|'.join(contact_uris(decision))}\n"


def rtjson_document(decision):
    uris = contact_uris(decision)
    rule = decision.rule
    return {
        "version": "1.0",
        "routing": "serial",
        "routes": [{"uri": uri} for uri in uris],
        "edge": edge_line(decision),
        # the same URIs for the edge, "|"-separated (a SIP URI has no unescaped "|")
        "contacts": "|".join(uris),
        "outcome": decision.outcome,
        "reason": decision.reason,
        "sip_code": decision.sip_code,
        "sip_reason": decision.sip_reason,
        "dialpeer": (
            {"id": decision.dialpeer.id, "name": decision.dialpeer.name}
            if decision.dialpeer
            else None
        ),
        "rule": (
            {"id": rule.id, "code": rule.code, "label": rule.label, "name": rule.display}
            if rule
            else None
        ),
        "trunk": {"id": decision.trunk.id} if decision.trunk else None,
    }


class RtjsonRenderer(JSONRenderer):
    """``?format=rtjson``: JSON, in the routing document shape (see RouteView)."""

    format = "rtjson"


class EdgeRenderer(BaseRenderer):
    """``?format=edge``: the SIP edge's two lines of text (:func:`edge_text`). Anything else
    (a refusal, OPTIONS) stays JSON (``RouteView.finalize_response``)."""

    format = "edge"
    media_type = "text/plain"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data.encode()


# The answer of each format, from a decision: the view and the fast path both take it here.
ANSWERS = {
    "json": lambda decision: decision.as_dict(),
    "rtjson": rtjson_document,
    "edge": edge_text,
}


def quick_lookup(data):
    """The validated lookup for the plain common case (the SIP edge's: a string number and a
    trunk id or a source IP, no time), or None to let RouteLookupSerializer decide.

    A strict subset of what the serializer accepts, so it never accepts what the serializer
    would refuse; it only spares the hot path the serializer's per-request field copies.
    """
    if not isinstance(data, dict) or "at" in data:
        return None
    number = data.get("called_number")
    explain = data.get("explain", False)
    calling = data.get("calling_number")
    if not isinstance(number, str) or len(number) > 64 or "\x00" in number:
        return None
    if not isinstance(explain, bool):
        return None
    if calling is not None:
        if not isinstance(calling, str):
            return None
        try:
            engine.calling_digits(calling)
        except engine.IngressError:
            return None
    has_trunk, has_ip = "trunk" in data, "source_ip" in data
    if has_trunk == has_ip:
        return None
    if has_trunk:
        trunk = data["trunk"]
        if type(trunk) is not int or not 1 <= trunk <= MAX_ID:
            return None
        lookup = {"called_number": number, "trunk": trunk, "explain": explain}
    else:
        ip = data["source_ip"]
        if not isinstance(ip, str) or not ip or len(ip) > 64 or "\x00" in ip:
            return None
        try:
            engine.parse_source_ip(ip)
        except engine.IngressError:
            return None
        lookup = {"called_number": number, "source_ip": ip, "explain": explain}
    if "calling_number" in data:  # as the serializer's validated data: only when given
        lookup["calling_number"] = calling
    return lookup


MAX_ID = 2**63 - 1


class RouteView(APIViewMixin, APIView):
    """Where does this call go? ``POST`` the called number and the ingress (``trunk`` id or
    ``source_ip``); the answer is the routing decision of SPEC §5 with HTTP 200 whatever
    its outcome. ``?format=rtjson`` answers in Kamailio's rtjson shape instead,
    ``?format=edge`` with the SIP edge's two lines of text (:func:`edge_text`). Malformed
    requests (missing or non-string number, over 64 characters, NUL, both or neither of
    trunk/source_ip, bad IP or time, a trunk that is not this tenant's) are 400.

    A route lookup only reads, so a viewer's token may ask too."""

    renderer_classes = [JSONRenderer, RtjsonRenderer, EdgeRenderer]

    def get_permissions(self):
        return [ReadPermission()]

    def finalize_response(self, request, response, *args, **kwargs):
        # anything but the edge's text (a refusal with its field errors, OPTIONS' metadata)
        # is JSON whatever the format: a document, not text
        if not isinstance(getattr(response, "data", None), str) and isinstance(
            getattr(request, "accepted_renderer", None), EdgeRenderer
        ):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        request=RouteLookupSerializer,
        responses={
            (200, "application/json"): PolymorphicProxySerializer(
                component_name="RouteAnswer",
                serializers=[RouteDecisionSerializer, RtjsonSerializer],
                resource_type_field_name=None,
            ),
            (200, "text/plain"): OpenApiResponse(
                response={"type": "string", "pattern": NO_NUL},
                description="`?format=edge`: two lines, `sip_code:reason:trunk:dialpeer:"
                "rule:code:phrase` (empty where null) and the Contact URIs `|`-separated.",
            ),
        },
        parameters=[
            OpenApiParameter(
                "format",
                str,
                enum=["json", "rtjson", "edge"],
                required=False,
                description="`rtjson`: answer in Kamailio's rtjson routing document shape "
                "(the Rtjson component of the answer); `edge`: the SIP edge's two lines "
                "of text (`text/plain`).",
            )
        ],
        examples=[
            OpenApiExample(
                "By source IP",
                value={"called_number": "9937412345678", "source_ip": "203.0.113.10"},
                request_only=True,
            ),
            OpenApiExample(
                "With the calling number",
                value={
                    "called_number": "99009412345",
                    "source_ip": "203.0.113.10",
                    "calling_number": "37410555123",
                },
                request_only=True,
            ),
            OpenApiExample(
                "By trunk, explained",
                value={"called_number": "9937412345678", "trunk": 1, "explain": True},
                request_only=True,
            ),
        ],
    )
    def post(self, request):
        decision, errors = decide(self.tenant, request.data)
        if errors is not None:
            raise serializers.ValidationError(errors)
        return Response(ANSWERS[request.accepted_renderer.format](decision))


def decide(tenant, data):
    """``(decision, None)`` for a route lookup's request data, or ``(None, field errors)``
    for what the API answers 400: the one validation and engine call of the DRF view and
    the SIP edge's RESP lookup (:func:`edge_answer`)."""
    lookup = quick_lookup(data)
    if lookup is None:  # not the plain common case: full validation, with field errors
        params = RouteLookupSerializer(data=data)
        if not params.is_valid():
            return None, params.errors
        lookup = params.validated_data
    return decide_lookup(tenant, lookup)


def decide_lookup(tenant, lookup):
    """:func:`decide` for a lookup already validated (``quick_lookup`` or the serializer's
    data); the route lookup's fast path calls it directly."""
    try:
        decision = engine.route_call(
            tenant,
            called_number=lookup["called_number"],
            trunk=lookup.get("trunk"),
            source_ip=lookup.get("source_ip"),
            at=lookup.get("at"),
            explain=lookup["explain"],
            calling_number=lookup.get("calling_number"),
        )
    except engine.CallingNumberError as exc:
        return None, {"calling_number": [str(exc)]}
    except engine.IngressError as exc:
        field = "trunk" if "trunk" in lookup else "source_ip"
        return None, {field: [str(exc)]}
    return decision, None


class ReadPermission(TenantPermission):
    """A tenant login of any role (the route lookup changes nothing but the rotation)."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        return getattr(request, "membership", None) is not None


# --------------------------------------------------------------------------- fast path


logger = logging.getLogger(__name__)

ROUTE_PATH = "/api/v1/route/"
MAX_BODY = 4096
FORMATS = {"": "json", "format=json": "json", "format=rtjson": "rtjson", "format=edge": "edge"}
PLAIN_ACCEPT = {"", "*/*", "application/json"}
JSON_TYPES = {
    "application/json",
    "application/json; charset=utf-8",
    "application/json;charset=utf-8",
}

# What Django's middlewares and DRF add to the same answer (see the header test).
HEADERS = [
    ("Content-Type", "application/json"),
    ("Vary", "Accept"),
    ("Allow", "POST, OPTIONS"),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cache-Control", "no-store"),  # vmgate.errors.ErrorMiddleware: API answers are never cached
]
HEADERS_OF = {
    "json": HEADERS,
    "rtjson": HEADERS,
    "edge": [("Content-Type", f"{EdgeRenderer.media_type}; charset={EdgeRenderer.charset}")]
    + HEADERS[1:],
}


def _no_constants(name):
    raise ValueError(f"{name} is not valid JSON")


def host_allowed(environ):
    """Django's own ALLOWED_HOSTS check (``HttpRequest.get_host``: forwarded host, port,
    DEBUG defaults), on a request object that is built but never read."""
    try:
        WSGIRequest(environ).get_host()
    except DisallowedHost:
        return False
    return True


def read_plain_request(environ):
    """(format, body bytes) when the request is one this path may answer, else None.
    Reads the body (and puts it back in ``environ`` for the Django application)."""
    fmt = FORMATS.get(environ.get("QUERY_STRING", ""))
    if fmt is None or not host_allowed(environ):
        return None
    if environ.get("CONTENT_TYPE", "").lower() not in JSON_TYPES:
        return None
    if environ.get("HTTP_ACCEPT", "") not in PLAIN_ACCEPT:
        return None
    if not environ.get("HTTP_AUTHORIZATION", "").startswith("Token "):
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if not 0 < length <= MAX_BODY:
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)  # whatever happens, Django can read it again
    if len(body) != length:
        return None
    return fmt, body


def fast_answer(environ):
    """``(headers, body bytes)`` for a plain route lookup, or None to let Django answer."""
    plain = read_plain_request(environ)
    if plain is None:
        return None
    fmt, body = plain
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_no_constants)
    except ValueError:  # includes UnicodeDecodeError
        return None
    lookup = quick_lookup(data)
    if lookup is None or lookup["explain"]:
        return None
    try:
        found = TokenAuthentication.authenticate_header_value(environ["HTTP_AUTHORIZATION"])
    except AuthenticationFailed:
        return None
    if found is None or found[1] is None:  # not a token, or a login of no tenant
        return None
    decision, errors = decide_lookup(found[1].tenant, lookup)
    if errors is not None:  # e.g. another tenant's trunk: DRF's 400 with the field
        return None
    answer = ANSWERS[fmt](decision)
    if fmt == "edge":
        return HEADERS_OF[fmt], answer.encode()
    # As DRF's JSONRenderer: compact separators, UTF-8 (not \\u escapes), no NaN.
    body = json.dumps(answer, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return HEADERS_OF[fmt], body.encode()


def edge_answer(tenant, called_number, source_ip, calling_number=None):
    """The SIP edge's lookup over RESP (``routing.engine.resp``): ``(text, None)`` with
    the ``?format=edge`` answer, or ``(None, field errors)`` where ``POST /api/v1/route/``
    answers 400 — the same validation, engine call and rendering as the API's."""
    data = {"called_number": called_number, "source_ip": source_ip}
    if calling_number is not None:
        data["calling_number"] = calling_number
    decision, errors = decide(tenant, data)
    return (None, errors) if decision is None else (edge_text(decision), None)


class FastRouteMiddleware:
    """WSGI middleware around the Django application (vmgate.wsgi). With
    ``VMGATE_ROUTE_SERVICE`` set, route lookups go to the host's route service instead
    (``routing.engine.forward``): this process then builds no index for them."""

    def __init__(self, app, route_service=None):
        self.app = app
        url = route_service if route_service is not None else settings.VMGATE_ROUTE_SERVICE
        self.forward = Forwarder(url) if url else None

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != ROUTE_PATH:
            return self.app(environ, start_response)
        if self.forward is not None:
            return self.forward(environ, start_response)
        if environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        # As Django's handler: closes a connection past its age or broken before any query.
        signals.request_started.send(sender=self.__class__, environ=environ)
        try:
            fast = fast_answer(environ)
        except Exception:  # noqa: BLE001 - Django answers (and logs) it as for any request
            logger.debug("route fast path fell back", exc_info=True)
            fast = None
        if fast is None:
            return self.app(environ, start_response)
        headers, body = fast
        try:
            start_response("200 OK", [*headers, ("Content-Length", str(len(body)))])
            return [body]
        finally:
            signals.request_finished.send(sender=self.__class__)
