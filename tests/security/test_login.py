"""Login: throttling on both login pages (django-axes), password validators, session expiry."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_PAGES = ["/accounts/login/", "/admin/login/"]


def post_login(client, url, username, password, address="198.51.100.7", **extra):
    return client.post(
        url, {"username": username, "password": password, **extra}, REMOTE_ADDR=address
    )


def logged_in(client):
    return "_auth_user_id" in client.session


@pytest.fixture
def staff():
    return UserFactory(username="support", is_staff=True, is_superuser=True)


@pytest.mark.parametrize("url", LOGIN_PAGES)
def test_wrong_passwords_lock_the_username_at_that_address_with_a_clear_message(
    url, operator, staff
):
    user = staff if url.startswith("/admin") else operator
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = post_login(client, url, user.username, "wrong")
        assert response.status_code == 200  # the form again, with its error
    response = post_login(client, url, user.username, "wrong")
    assert response.status_code == 429
    text = response.content.decode()
    assert "Too many failed login attempts. Try again in 15 minutes." in text
    # The right password no longer logs in from here...
    response = post_login(client, url, user.username, "pw")
    assert response.status_code == 429
    assert not logged_in(client)
    # ...but the same user from another address does, and so does another user here.
    other_place = Client()
    post_login(other_place, url, user.username, "pw", address="203.0.113.99")
    assert logged_in(other_place)
    colleague = UserFactory(username="colleague", is_staff=True, is_superuser=True)
    MembershipFactory(user=colleague)
    same_office = Client()
    post_login(same_office, url, "colleague", "pw")
    assert logged_in(same_office)


def age_attempts(minutes):
    """Move every recorded failure ``minutes`` into the past (as if that time had passed)."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=minutes))


def test_the_lockout_ends_after_the_cool_off(operator):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, "/accounts/login/", "op-a", "wrong")
    age_attempts(10)
    response = post_login(client, "/accounts/login/", "op-a", "pw")
    assert "Try again in 5 minutes." in response.content.decode()
    age_attempts(6)
    post_login(client, "/accounts/login/", "op-a", "pw")
    assert logged_in(client)


def test_an_address_spraying_many_usernames_is_locked_as_a_whole(operator):
    client = Client()
    for i in range(settings.AXES_ADDRESS_FAILURE_LIMIT):
        response = post_login(client, "/accounts/login/", f"guess-{i}", "wrong")
    assert response.status_code == 429
    post_login(client, "/accounts/login/", "op-a", "pw")
    assert not logged_in(client)
    elsewhere = Client()
    post_login(elsewhere, "/accounts/login/", "op-a", "pw", address="203.0.113.99")
    assert logged_in(elsewhere)


def test_a_successful_login_forgets_that_users_failures(operator):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        post_login(client, "/accounts/login/", "op-a", "wrong")
    post_login(client, "/accounts/login/", "op-a", "pw")
    assert logged_in(client)
    again = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert post_login(again, "/accounts/login/", "op-a", "wrong").status_code == 200


def test_api_tokens_are_not_throttled_by_login_failures(operator):
    from tests.api.conftest import token_client

    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        post_login(Client(), "/accounts/login/", "op-a", "wrong", address="127.0.0.1")
    api = token_client(operator)
    response = api.get("/api/v1/me/", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert response.json()["username"] == "op-a"


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password", "This password is too common."),
        ("12345678", "This password is entirely numeric."),
        ("short1!", "This password is too short."),
        ("alice-smith-1", "The password is too similar to the username."),
    ],
)
def test_the_four_password_validators_refuse_weak_passwords(password, message):
    user = UserFactory.build(username="alice-smith-1")
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user)
    assert any(message in m for m in refused.value.messages)


def test_a_strong_password_passes_the_validators():
    validate_password("correct horse battery staple 7", UserFactory.build(username="bob"))


def test_without_remember_me_the_session_ends_with_the_browser(operator):
    client = Client()
    response = post_login(client, "/accounts/login/", "op-a", "pw")
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == "" and cookie["expires"] == ""  # a browser-session cookie
    assert client.session.get_expire_at_browser_close()


def test_remember_me_keeps_the_session_across_browser_restarts(operator):
    client = Client()
    response = post_login(client, "/accounts/login/", "op-a", "pw", remember="on")
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE == 8 * 3600
    assert not client.session.get_expire_at_browser_close()


@pytest.mark.parametrize("remember", [{}, {"remember": "on"}])
def test_a_session_expires_after_the_idle_period_and_activity_extends_it(
    operator, remember, settings
):
    settings.SESSION_IDLE_TOUCH_SECONDS = 0  # every request pushes the end (default: 60 s)
    client = Client()
    post_login(client, "/accounts/login/", "op-a", "pw", **remember)
    session = Session.objects.get()
    # Idle for 7 h: an hour is left; a request pushes the end 8 h from now again.
    Session.objects.update(expire_date=timezone.now() + timedelta(hours=1))
    assert client.get("/").status_code == 200
    session.refresh_from_db()
    left = session.expire_date - timezone.now()
    assert timedelta(hours=7, minutes=59) < left <= timedelta(hours=8)
    # Idle past the 8 h: the session is over.
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_login_page_offers_remember_me():
    text = Client().get("/accounts/login/").content.decode()
    assert 'name="remember"' in text and "Remember me" in text


def test_pages_do_not_write_the_session_more_than_once_a_minute(operator):
    client = Client()
    post_login(client, "/accounts/login/", "op-a", "pw")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/customers/").status_code == 200
        assert client.get("/customers/").status_code == 200
    assert not [q for q in queries if "django_session" in q["sql"] and "UPDATE" in q["sql"]]
    # Older than the interval: the next request pushes the end forward.
    store = SessionStore(client.session.session_key)
    store["_idle_touch"] -= 61
    store.save()
    Session.objects.update(expire_date=timezone.now() + timedelta(hours=1))
    client.get("/customers/")
    left = Session.objects.get().expire_date - timezone.now()
    assert left > timedelta(hours=7, minutes=59)
