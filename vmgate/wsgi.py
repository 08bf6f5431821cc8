"""WSGI entry point (gunicorn vmgate.wsgi).

Plain route lookups (``POST /api/v1/route/`` from the SIP edge) are answered by
routing.engine.http before Django's middleware stack; everything else is Django's."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vmgate.settings")
application = get_wsgi_application()

from routing.engine.http import FastRouteMiddleware  # noqa: E402 - needs Django set up

application = FastRouteMiddleware(application)
