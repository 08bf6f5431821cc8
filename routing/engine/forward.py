"""Route lookups sent on to the route service of the host (``VMGATE_ROUTE_SERVICE``).

With the setting, an app process (a gunicorn worker) holds no routing index for the route
API: every ``POST /api/v1/route/`` it receives is passed, as it came (method, query,
headers, body), to the route service over a kept-alive connection, and the service's answer
(status, headers, body) goes back as it came. The service answers exactly what the app
answers (the same fast path, Django and DRF; ``tests/sip/test_route_service.py``), so a
client cannot tell, and there is one index per host whoever asks. A service that cannot be
reached is a 503 (after one retry on a new connection: a kept-alive one may have been
closed by a restart), never a lookup made here instead.
"""

from __future__ import annotations

import http.client
import json
import threading
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

# Not passed on: they describe one connection, not the request (RFC 9110 7.6.1).
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}
TIMEOUT = 5.0
MAX_BODY = 64 * 1024  # the service's own limit; a longer body gets its 413


def parse_service_url(url):
    """(host, port) of ``http://HOST:PORT``; ImproperlyConfigured for anything else."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "http" or not parts.hostname or port is None or parts.path not in ("", "/"):
        raise ImproperlyConfigured(
            f"VMGATE_ROUTE_SERVICE must be http://HOST:PORT of the route service, not {url!r}"
        )
    return parts.hostname, port


class Forwarder:
    """Passes route lookups to the route service; one kept-alive connection per thread."""

    def __init__(self, url):
        self.host, self.port = parse_service_url(url)
        self.local = threading.local()

    def connection(self, fresh=False):
        conn = getattr(self.local, "conn", None)
        if conn is None or fresh:
            if conn is not None:
                conn.close()
            conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
            self.local.conn = conn
        return conn

    def __call__(self, environ, start_response):
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            return unavailable(start_response, 413, "Request body too large.")
        body = environ["wsgi.input"].read(length) if length else b""
        path = environ.get("PATH_INFO", "")
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        headers = request_headers(environ)
        for attempt in (1, 2):
            conn = self.connection(fresh=attempt == 2)
            try:
                conn.request(environ["REQUEST_METHOD"], path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                continue
            if response.will_close:
                conn.close()
                self.local.conn = None
            out = [
                (name, value)
                for name, value in response.getheaders()
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length"
            ]
            start_response(
                f"{response.status} {response.reason}",
                [*out, ("Content-Length", str(len(data)))],
            )
            return [data]
        return unavailable(start_response, 503, "The route service is unavailable.")


def request_headers(environ):
    """The request's headers as the client sent them (WSGI keeps them as HTTP_*)."""
    headers = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").title()
            if name.lower() not in HOP_BY_HOP:
                headers[name] = value
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    return headers


def unavailable(start_response, status, detail):
    body = json.dumps({"detail": detail}).encode()
    reason = {413: "Content Too Large", 503: "Service Unavailable"}[status]
    start_response(
        f"{status} {reason}",
        [
            ("Content-Type", "application/json"),
            ("Cache-Control", "no-store"),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]
