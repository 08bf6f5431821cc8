"""Races against the real database: N writers, one thread (and one connection) each,
released together by a barrier, through the API, the operator form, the admin or a bulk
action. Each call returns an :class:`Outcome`; a 5xx or an exception fails the race.

Tests using this need ``pytest.mark.django_db(transaction=True)`` (threads see only
committed data). They run on PostgreSQL in CI; on SQLite (IMMEDIATE transactions, 20 s busy
timeout) the writers queue and the same assertions hold.
"""

import itertools
import threading
from dataclasses import dataclass, field

from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from vmgate.models import APIToken

RACERS = 16
_token_names = itertools.count()


@dataclass
class Outcome:
    path: str  # "api", "form", "admin", "bulk"
    status: int
    won: bool
    errors: list = field(default_factory=list)  # every error message, flattened

    @property
    def text(self):
        return " | ".join(self.errors)


def _flatten(value):
    if isinstance(value, dict):
        return [m for v in value.values() for m in _flatten(v)]
    if isinstance(value, list | tuple):
        return [m for v in value for m in _flatten(v)]
    return [str(value)]


def api_client(user):
    _, key = APIToken.issue(user, f"race {next(_token_names)}")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def session_client(user):
    client = Client()
    client.force_login(user)
    return client


def api_call(client, method, url, body):
    response = getattr(client, method)(url, body, format="json")
    won = response.status_code in (200, 201)
    errors = [] if won or response.status_code >= 500 else _flatten(response.json())
    return Outcome("api", response.status_code, won, errors)


def form_call(client, url, data, *, path="form"):
    """POST an operator form (or an admin change form): a redirect is a save, a 200 carries
    the form's errors (the formsets' too)."""
    response = client.post(url, data)
    if response.status_code == 302:
        return Outcome(path, 302, True)
    errors = []
    if response.status_code == 200 and response.context is not None:
        ctx = response.context
        if "adminform" in ctx:
            errors += _flatten(ctx["adminform"].form.errors)
            for inline in ctx.get("inline_admin_formsets", []):
                errors += _flatten(inline.formset.errors)
                errors += _flatten(inline.formset.non_form_errors())
        else:
            form = ctx["form"]
            errors += _flatten(form.errors)
            networks = getattr(form, "networks", None)
            if networks is not None:
                errors += _flatten(networks.errors)
                errors += _flatten(networks.non_form_errors())
    return Outcome(path, response.status_code, False, errors)


def admin_call(client, url, data):
    return form_call(client, url, {**data, "_save": "Save"}, path="admin")


def bulk_call(client, url, data):
    """A bulk action answers with a redirect either way; its message says what happened."""
    response = client.post(url, data)
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    if response.status_code != 302:
        return Outcome("bulk", response.status_code, False, texts)
    levels = [m.level_tag for m in get_messages(response.wsgi_request)]
    won = "error" not in levels
    return Outcome("bulk", 302, won, [] if won else texts)


def fire_at_once(calls):
    """Run each zero-argument callable in its own thread, all released by one barrier;
    return their outcomes in order. An exception in a call is re-raised here."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)
    failures = []

    def run(i):
        try:
            barrier.wait(timeout=30)
            results[i] = calls[i]()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a racer hung"
    if failures:
        raise failures[0]
    return results


def assert_one_winner(outcomes, must_name):
    """Exactly one call saved; every other was refused (400 / form error / bulk error)
    with a message containing ``must_name`` (the winner), and nothing answered 5xx."""
    assert all(o.status < 500 for o in outcomes), [(o.path, o.status) for o in outcomes]
    winners = [o for o in outcomes if o.won]
    assert len(winners) == 1, [(o.path, o.status, o.text) for o in outcomes]
    for o in outcomes:
        if o.won:
            continue
        assert o.status in (400, 200, 302), (o.path, o.status)
        assert must_name in o.text, (o.path, o.status, o.text)
    return winners[0]


def import_call(tenant, kind, text, user, **kwargs):
    """Apply an import of ``text`` (CSV) — the path the import page's Apply, the command
    and the API share (:func:`vmgate.imports.run_import`)."""
    from vmgate.import_kinds import KINDS
    from vmgate.imports import run_import

    result = run_import(
        tenant, KINDS[kind], f"{kind}.csv", text.encode(), apply=True, user=user, **kwargs
    )
    errors = [message for _, _, message in result.errors]
    if result.file_error:
        errors.append(result.file_error)
    return Outcome("import", 200 if result.applied else 400, result.applied, errors)
