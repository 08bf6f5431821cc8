"""Logging in: the login page with "Remember me", and django-axes' throttling policy.

Throttling (settings ``AXES_*``): a username is locked *at one address* after
``AXES_FAILURE_LIMIT`` failures, so an attacker elsewhere cannot lock a user out and other
users at the same address keep working; an address is locked as a whole only after
``AXES_ADDRESS_FAILURE_LIMIT`` failures over any usernames (password spraying).
"""

import math

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off
from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max, Sum
from django.shortcuts import render
from django.utils import timezone


class ThrottleHandler(AxesDatabaseHandler):
    """Two limits: the (username, address) pair at ``AXES_FAILURE_LIMIT`` and the address
    alone at ``AXES_ADDRESS_FAILURE_LIMIT``. Axes compares one count with one limit, so the
    address count is scaled to the pair's limit."""

    def get_failures(self, request, credentials=None):
        counts = [
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        ]
        by_pair, by_address = counts
        scaled = by_address * settings.AXES_FAILURE_LIMIT // settings.AXES_ADDRESS_FAILURE_LIMIT
        return max(by_pair, scaled)

    def reset_user_attempts(self, request, credentials=None):
        # A successful login clears that username's failures at that address only: an
        # attacker cannot reset an address's count by logging in to an account of their own.
        pair_attempts = self.filter_user_attempts(request, credentials)[0]
        count, _ = pair_attempts.delete()
        return count


def minutes_left(request, credentials):
    """Whole minutes (at least 1) until the lockout of this request's username/address ends."""
    cool_off = get_cool_off(request)
    times = [
        attempts.aggregate(t=Max("attempt_time"))["t"]
        for attempts in ThrottleHandler().get_user_attempts(request, credentials)
    ]
    times = [t for t in times if t is not None]
    if not times:
        return math.ceil(cool_off.total_seconds() / 60)
    latest = max(times)
    left = (latest + cool_off - timezone.now()).total_seconds()
    return max(1, math.ceil(left / 60))


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out login (both login pages): 429 with a visible
    message saying when to try again."""
    minutes = minutes_left(request, credentials)
    return render(
        request,
        "registration/locked_out.html",
        {"minutes": minutes, "login_url": request.path},
        status=429,
    )


class LoginForm(AuthenticationForm):
    remember = forms.BooleanField(
        label="Remember me",
        required=False,
        help_text="Stay logged in after the browser closes (until idle too long).",
    )


class LoginView(auth_views.LoginView):
    """Django's login view; without "Remember me" the session ends when the browser closes.
    Either way it ends after ``SESSION_COOKIE_AGE`` seconds without a request."""

    form_class = LoginForm

    def form_valid(self, form):
        response = super().form_valid(form)
        if form.cleaned_data.get("remember"):
            self.request.session.set_expiry(settings.SESSION_COOKIE_AGE)
        else:
            self.request.session.set_expiry(0)
        return response
