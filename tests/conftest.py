"""Shared fixtures: two tenants, and a logged-in client per role."""

import os

import pytest

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls
# from a thread with a running loop unless told otherwise (tests only).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_configure(config):
    # Tests never need a slow password hash: PBKDF2 on every factory user cost ~150 s of
    # the suite. Real logins (the e2e login form, the API's token path) still hash and
    # check through Django's hasher API, only with a cheap algorithm.
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


#: What ``make test-fast`` leaves out (``-m "not slow"``); ``make test`` runs everything.
SLOW = ("tests/e2e/", "tests/sip/", "tests/api/test_schemathesis.py")


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = item.path.as_posix()
        if any(("/" + part) in path for part in SLOW):
            item.add_marker(pytest.mark.slow)


from tests.factories import MembershipFactory, TenantFactory, UserFactory  # noqa: E402


@pytest.fixture
def tenant(db):
    return TenantFactory(name="Tenant A", slug="tenant-a")


@pytest.fixture
def other_tenant(db):
    return TenantFactory(name="Tenant B", slug="tenant-b")


@pytest.fixture
def operator(tenant):
    return MembershipFactory(tenant=tenant, role="operator", user__username="op-a").user


@pytest.fixture
def viewer(tenant):
    return MembershipFactory(tenant=tenant, role="viewer", user__username="view-a").user


@pytest.fixture
def operator_key(operator):
    """An API token key of the tenant's operator (what ``Authorization: Token`` carries)."""
    from vmgate.models import APIToken

    return APIToken.issue(operator, "operator-key")[1]


@pytest.fixture
def other_operator(other_tenant):
    return MembershipFactory(tenant=other_tenant, role="operator", user__username="op-b").user


@pytest.fixture
def staff_user(db):
    user = UserFactory(username="staff", is_staff=True, is_superuser=True)
    return user


@pytest.fixture
def op_client(client, operator):
    client.force_login(operator)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client
