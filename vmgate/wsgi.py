"""WSGI entry point (gunicorn vmgate.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vmgate.settings")
application = get_wsgi_application()
