"""Settings for the VMGate routing portal.

Everything that differs between a laptop and production comes from the environment:
``DATABASE_URL`` (unset: a SQLite file beside manage.py), ``DJANGO_DEBUG`` (default 1),
``DJANGO_SECRET_KEY`` (required when DJANGO_DEBUG=0) and ``DJANGO_ALLOWED_HOSTS``.
The security switches below (HTTPS, HSTS, sessions, login throttling) have secure defaults
when DJANGO_DEBUG=0; README "Configuration" lists them.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name, default):
    """A boolean from the environment: 1/true/yes/on or 0/false/no/off (or empty)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def env_int(name, default):
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


DEBUG = os.environ.get("DJANGO_DEBUG", "1") not in ("0", "false", "False", "no", "")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG=0")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "django_tables2",
    "django_filters",
    "template_partials",
    "django_countries",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "csp",
    "vmgate",
    "customers",
    "routing",
    "dialpeers",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every answer (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    # API answers: JSON errors, Cache-Control: no-store; a database outage is a 503.
    "vmgate.errors.ErrorMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "vmgate.session_idle.SessionIdleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login unless a view is marked @login_not_required (fail closed).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "vmgate.tenancy.TenantMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Login throttling (AXES_* below); last, as django-axes asks.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Refuses a locked-out username/address before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "vmgate.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "vmgate.context_processors.portal",
            ],
        },
    },
]

WSGI_APPLICATION = "vmgate.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The test database is a file, not memory, so that another process (the SIP edge
    # suite's gunicorn) can read what a test wrote.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test_db.sqlite3")}
    # Several writers (two operators saving at once, gunicorn workers): each transaction
    # takes the write lock when it begins and others wait for it (up to 20 s) instead of
    # failing with "database is locked" when a reader tries to become a writer.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --------------------------------------------------------------------------- sessions
# A session ends after DJANGO_SESSION_IDLE_SECONDS without a request (default 8 hours: the
# expiry is pushed forward by requests), and when the browser closes unless the login
# form's "Remember me" was ticked (vmgate.auth_views.LoginView).
SESSION_COOKIE_AGE = env_int("DJANGO_SESSION_IDLE_SECONDS", 8 * 3600)
# Pushed forward at most once a minute (vmgate.session_idle), not a write on every request.
SESSION_IDLE_TOUCH_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --------------------------------------------------------------------------- login throttling
# django-axes on both login pages (/accounts/login/ and /admin/login/): after
# AXES_FAILURE_LIMIT wrong passwords for one username from one address, that pair is locked
# for AXES_COOLOFF_TIME; an address that fails DJANGO_LOGIN_ADDRESS_FAILURE_LIMIT times over
# any usernames (password spraying) is locked as a whole (vmgate.auth_views.ThrottleHandler).
# Other users, and the same user from another address, are not locked out.
AXES_FAILURE_LIMIT = env_int("DJANGO_LOGIN_FAILURE_LIMIT", 5)
AXES_ADDRESS_FAILURE_LIMIT = env_int("DJANGO_LOGIN_ADDRESS_FAILURE_LIMIT", 30)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("DJANGO_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "vmgate.auth_views.ThrottleHandler"
AXES_LOCKOUT_CALLABLE = "vmgate.auth_views.locked_out"
AXES_RESET_ON_SUCCESS = True
# A try during the lockout does not restart it: "try again in N minutes" holds.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_VERBOSE = False
# Behind a proxy, the client address is the last X-Forwarded-For hop the proxy appended.
AXES_IPWARE_PROXY_COUNT = env_int("DJANGO_PROXY_COUNT", 0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if AXES_IPWARE_PROXY_COUNT else ["REMOTE_ADDR"]
)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Manifest storage only in production: tests and the dev server use the plain storage,
# otherwise {% static %} fails without a collected manifest.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOGIN_URL = "login"
CSRF_FAILURE_VIEW = "vmgate.errors.csrf_failure"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"
DJANGO_TABLES2_TABLE_ATTRS = {"class": "table table-sm table-hover align-middle"}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "vmgate.api_auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["vmgate.api_auth.TenantPermission"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["vmgate.api_parsers.LimitedJSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "VMGate routing portal API",
    "DESCRIPTION": (
        "Tenant-scoped JSON API of the VMGate routing portal. Authenticate with "
        "`Authorization: Token <key>` (create keys on the API tokens page or with "
        "`manage.py create_api_token USERNAME`). A viewer's token is read-only."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "vmgate.api_schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "CustomerStatusEnum": "customers.models.Customer.STATUS_CHOICES",
        "TrunkStatusEnum": "customers.models.Trunk.STATUS_CHOICES",
        "ClientStatusEnum": "routing.models.VMGateClient.STATUS_CHOICES",
        # a number list's kind and a balance entry's kind are two enums, not one
        "KindEnum": "customers.models.BalanceEntry.KIND_CHOICES",
        "NumberListKindEnum": "routing.models.NumberList.KIND_CHOICES",
        "NumberListAppliesToEnum": "routing.models.NumberList.APPLIES_CHOICES",
    },
}

# --------------------------------------------------------------------------- HTTPS and headers
# Secure defaults when DJANGO_DEBUG=0 (the dev server and the tests run over plain HTTP).
# Behind a TLS proxy that sets (overwrites) X-Forwarded-Proto, requests count as HTTPS.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_flag("DJANGO_SECURE_COOKIES", not DEBUG)
SECURE_SSL_REDIRECT = env_flag("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
# The SIP edge calls the route lookup over loopback HTTP (README "SIP edge").
SECURE_REDIRECT_EXEMPT = [r"^api/v1/route/$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_flag("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_flag("DJANGO_HSTS_PRELOAD", True)
_proxy_header = os.environ.get(
    "DJANGO_SECURE_PROXY_SSL_HEADER", "" if DEBUG else "X-Forwarded-Proto: https"
)
if _proxy_header.strip():
    _name, _, _value = _proxy_header.partition(":")
    SECURE_PROXY_SSL_HEADER = (
        "HTTP_" + _name.strip().upper().replace("-", "_"),
        _value.strip(),
    )
if not SECURE_SSL_REDIRECT and not DEBUG:
    # Turned off on purpose (DJANGO_SECURE_SSL_REDIRECT=0): the proxy in front redirects.
    SILENCED_SYSTEM_CHECKS = ["security.W008"]

# Strict Content-Security-Policy: our own files only, no inline script or style (the
# Swagger UI page gets a nonce for its one inline script and style).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# API request bodies (vmgate.api_parsers.LimitedJSONParser): larger or deeper → 400.
API_MAX_BODY_BYTES = env_int("DJANGO_API_MAX_BODY_BYTES", 1024 * 1024)

# The route service of this host (manage.py route_service), as http://HOST:PORT: when set,
# the app's processes pass every request to /api/v1/route/ to it and hold no routing index for
# the route API (routing/engine/forward.py). Empty: they look routes up themselves.
VMGATE_ROUTE_SERVICE = os.environ.get("VMGATE_ROUTE_SERVICE", "").strip()
API_MAX_JSON_DEPTH = 32

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
}
