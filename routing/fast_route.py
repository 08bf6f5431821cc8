"""The route lookup's hot path: ``POST /api/v1/route/`` answered in front of Django's
middleware stack and DRF, for the plain requests the SIP edge sends.

Why: the decision itself takes ~0.06 ms from the in-process index, but the same request
through Django's 12 middlewares, DRF's content negotiation, parser, authentication,
permission and renderer cost ~3 ms of CPU per call, which capped the SIP edge at about
150 calls/s on two cores (bench/README.md, "SIP edge" and "JSON API").

What it answers here: exactly the requests :func:`fast_answer` recognises as plain —
POST to an allowed ``Host`` (ALLOWED_HOSTS, as Django checks it), query string empty / ``format=json`` / ``format=rtjson``, a JSON body (at most
4 KiB, ``Content-Type: application/json``) that :func:`routing.api.quick_lookup` accepts,
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

from django.core import signals
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from rest_framework.exceptions import AuthenticationFailed

from routing import engine
from routing.api import quick_lookup, rtjson_document
from vmgate.api_auth import TokenAuthentication

logger = logging.getLogger(__name__)

ROUTE_PATH = "/api/v1/route/"
MAX_BODY = 4096
FORMATS = {"": "json", "format=json": "json", "format=rtjson": "rtjson"}
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
]


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
    """The response body (bytes) for a plain route lookup, or None to let Django answer."""
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
    tenant = found[1].tenant
    try:
        decision = engine.route_call(
            tenant,
            called_number=lookup["called_number"],
            trunk=lookup.get("trunk"),
            source_ip=lookup.get("source_ip"),
        )
    except engine.IngressError:  # e.g. another tenant's trunk: DRF's 400 with the field
        return None
    document = rtjson_document(decision) if fmt == "rtjson" else decision.as_dict()
    # As DRF's JSONRenderer: compact separators, UTF-8 (not \\u escapes), no NaN.
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


class FastRouteMiddleware:
    """WSGI middleware around the Django application (vmgate.wsgi)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != ROUTE_PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        # As Django's handler: closes a connection past its age or broken before any query.
        signals.request_started.send(sender=self.__class__, environ=environ)
        try:
            body = fast_answer(environ)
        except Exception:  # noqa: BLE001 - Django answers (and logs) it as for any request
            logger.debug("route fast path fell back", exc_info=True)
            body = None
        if body is None:
            return self.app(environ, start_response)
        try:
            start_response("200 OK", [*HEADERS, ("Content-Length", str(len(body)))])
            return [body]
        finally:
            signals.request_finished.send(sender=self.__class__)
