"""Error answers: JSON on the API, a database outage as 503 everywhere.

- Under ``/api/`` every error is JSON (``{"detail": ...}``): DRF answers its own refusals;
  the handlers here cover what never reaches a DRF view (an unknown URL, an uncaught error,
  a middleware that fails) and :class:`ErrorMiddleware` adds ``Cache-Control: no-store`` to
  every API answer.
- A database that cannot be reached (connection refused, server gone, locked) is
  ``503 Service Unavailable`` with ``Retry-After``: JSON on the API, templates/503.html on
  pages (rendered without the database: no context processors).
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.template import loader
from django.views import defaults

API_PREFIX = "/api/"
RETRY_AFTER_SECONDS = 30


def is_api(request):
    return request.path_info.startswith(API_PREFIX)


def is_database_outage(exc):
    return isinstance(exc, (OperationalError, InterfaceError))


def database_unavailable(request):
    if is_api(request):
        response = JsonResponse(
            {"detail": "The database is unavailable; try again shortly."}, status=503
        )
    else:
        from django.http import HttpResponse

        response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _json_error(status, detail):
    return JsonResponse({"detail": detail}, status=status)


def bad_request(request, exception, template_name=defaults.ERROR_400_TEMPLATE_NAME):
    if is_api(request):
        return _json_error(400, "Bad request.")
    return defaults.bad_request(request, exception, template_name)


def permission_denied(request, exception, template_name=defaults.ERROR_403_TEMPLATE_NAME):
    if is_api(request):
        return _json_error(403, "You do not have permission to perform this action.")
    return defaults.permission_denied(request, exception, template_name)


def page_not_found(request, exception, template_name=defaults.ERROR_404_TEMPLATE_NAME):
    if is_api(request):
        return _json_error(404, "Not found.")
    return defaults.page_not_found(request, exception, template_name)


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    # Django calls this inside its ``except`` block: the exception is still at hand.
    exc = sys.exc_info()[1]
    if exc is not None and is_database_outage(exc):
        return database_unavailable(request)
    if is_api(request):
        return _json_error(500, "Server error.")
    return defaults.server_error(request, template_name)


def csrf_failure(request, reason=""):
    if is_api(request):
        return _json_error(403, f"CSRF verification failed: {reason}")
    from django.views.csrf import csrf_failure as django_csrf_failure

    return django_csrf_failure(request, reason)


class ErrorMiddleware:
    """Outermost of ours: a database outage raised by a view becomes a 503 (with DEBUG too),
    and API answers are never cached."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if is_api(request):
            response["Cache-Control"] = "no-store"
        return response

    def process_exception(self, request, exception):
        if is_database_outage(exception):
            return database_unavailable(request)
        return None
