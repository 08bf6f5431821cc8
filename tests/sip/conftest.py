"""Fixtures for the SIP edge suite: the app under gunicorn on the pytest-django test database
(one per session), an API token, and Kamailio started with the shipped configuration (one per
test, so each test's token and options are its own)."""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest
from django.core.management import call_command

from tests.factories import MembershipFactory
from tests.sip.edge import Gunicorn, Kamailio


def database_url(settings_dict) -> str:
    """The test database as a DATABASE_URL for gunicorn (PostgreSQL, or SQLite's file)."""
    if settings_dict["ENGINE"] == "django.db.backends.sqlite3":
        assert "memory" not in str(settings_dict["NAME"]), "an in-memory test database"
        return f"sqlite:///{settings_dict['NAME']}"
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{auth}{host}:{port}/{quote(settings_dict['NAME'], safe='')}"


@pytest.fixture(scope="session")
def sip_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("sip")


@pytest.fixture(scope="session")
def route_app(django_db_setup, django_db_blocker, sip_dir):
    """gunicorn serving the app from the test database (stopped before the database goes)."""
    from django.db import connection

    app = Gunicorn(database_url(connection.settings_dict), sip_dir)
    yield app
    app.stop()


@pytest.fixture
def sip_operator(tenant):
    return MembershipFactory(tenant=tenant, role="operator", user__username="sip-op").user


@pytest.fixture
def api_token(sip_operator):
    """A key made by ``manage.py create_api_token`` (its last output line)."""
    out = io.StringIO()
    call_command("create_api_token", sip_operator.username, stdout=out)
    return out.getvalue().strip().splitlines()[-1].strip()


@pytest.fixture
def start_edge(route_app, api_token, sip_dir):
    """``start_edge(api_url=None, **render_options)`` → a running Kamailio, stopped after."""
    started = []

    def start(api_url=None, token=None, **options):
        edge = Kamailio(api_url or route_app.url, token or api_token, sip_dir, **options)
        started.append(edge)
        return edge

    yield start
    for edge in started:
        edge.stop()


@pytest.fixture
def edge(start_edge):
    return start_edge()
