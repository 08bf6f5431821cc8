"""Fixtures for the SIP edge suite: the app under gunicorn on the pytest-django test database
(one per session), an API token, and Kamailio started with the shipped configuration (one per
test, so each test's token and options are its own)."""

from __future__ import annotations

import io
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from django.core.management import call_command

from tests.factories import (
    CustomerFactory,
    DialpeerFactory,
    MembershipFactory,
    NetworkFactory,
    RoutingRuleFactory,
    RoutingTargetFactory,
    TrunkFactory,
    TrunkNetworkFactory,
    VMGateClientFactory,
)
from tests.sip.edge import Gunicorn, Kamailio, RouteService


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


@pytest.fixture(scope="session")
def route_service(django_db_setup, django_db_blocker, sip_dir):
    """``manage.py route_service`` on the test database (one per session; a test that kills
    it starts it again on the same port)."""
    from django.db import connection

    holder = SimpleNamespace(
        service=RouteService(database_url(connection.settings_dict), sip_dir), dir=sip_dir
    )
    holder.restart = lambda wait=True: _restart(holder, connection.settings_dict, wait)
    yield holder
    holder.service.stop()


def _restart(holder, settings_dict, wait):
    holder.service.stop()
    holder.service = RouteService(
        database_url(settings_dict), holder.dir, port=holder.service.port, wait=wait
    )
    return holder.service


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
def start_edge(route_service, api_token, sip_dir):
    """``start_edge(api_url=None, **render_options)`` → a running Kamailio asking the
    session's route service (or ``api_url``), stopped after."""
    started = []

    from django.db import connection

    def start(api_url=None, token=None, **options):
        options.setdefault("db_url", database_url(connection.settings_dict))
        url = api_url or route_service.service.url
        edge = Kamailio(url, token or api_token, sip_dir, **options)
        started.append(edge)
        return edge

    yield start
    for edge in started:
        edge.stop()


@pytest.fixture
def edge(start_edge):
    return start_edge()


TECH = "999"


@pytest.fixture
def carrier(tenant):
    """The manual's example: a Customer's trunk (tech prefix 999, authorized 127.0.0.1) with
    dialpeers to rule 374 (two clients, the less loaded first) and rule 39."""
    customer = CustomerFactory(tenant=tenant, name="Carrier A", balance=Decimal("100"))
    trunk = TrunkFactory(customer=customer, tenant=tenant, name="switch-1", tech_prefix=TECH)
    TrunkNetworkFactory(trunk=trunk, network="127.0.0.1/32")
    net = NetworkFactory(tenant=tenant, name="Yerevan")
    gw1 = VMGateClientFactory(
        network=net, tenant=tenant, name="gw-am-1", sip_uri="sip:10.8.0.12:5060", active_calls=0
    )
    gw2 = VMGateClientFactory(
        network=net, tenant=tenant, name="gw-am-2", sip_uri="sip:10.8.0.13:5070", active_calls=3
    )
    gw_it = VMGateClientFactory(
        network=net, tenant=tenant, name="gw-it-1", sip_uri="sip:10.8.1.20:5060"
    )
    am = RoutingRuleFactory(tenant=tenant, code="374", label="Armenia")
    RoutingTargetFactory(rule=am, client=gw2)
    RoutingTargetFactory(rule=am, client=gw1)
    it = RoutingRuleFactory(tenant=tenant, code="39", label="Italy")
    RoutingTargetFactory(rule=it, client=gw_it)
    dp_am = DialpeerFactory(trunk=trunk, rule=am, name="A to Armenia")
    dp_it = DialpeerFactory(trunk=trunk, rule=it, name="A to Italy")
    return SimpleNamespace(
        customer=customer,
        trunk=trunk,
        net=net,
        gw1=gw1,
        gw2=gw2,
        gw_it=gw_it,
        am=am,
        it=it,
        dp_am=dp_am,
        dp_it=dp_it,
    )
