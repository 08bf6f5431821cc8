"""Idle expiry of sessions without a database write on every request.

A session's end (``expire_date``, ``SESSION_COOKIE_AGE`` after its last save) is pushed
forward when the session is saved. ``SESSION_SAVE_EVERY_REQUEST`` would save on every page
(three queries each); this middleware saves it at most once per ``SESSION_IDLE_TOUCH_SECONDS``
(default 60), so a session ends between ``SESSION_COOKIE_AGE`` and that plus a minute after
the last request.
"""

import time

from django.conf import settings

TOUCH_KEY = "_idle_touch"


class SessionIdleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # Only sessions already loaded and holding something (a login): anonymous visitors
        # get no session row from us.
        if session is None or not session.accessed or session.is_empty():
            return response
        now = int(time.time())
        interval = getattr(settings, "SESSION_IDLE_TOUCH_SECONDS", 60)
        if now - session.get(TOUCH_KEY, 0) >= interval:
            session[TOUCH_KEY] = now  # modified: SessionMiddleware saves it, expiry moves
        return response


def touch_at_login(sender, request, user, **kwargs):
    """A login saves the session anyway: count it as the first touch."""
    if request is not None and hasattr(request, "session"):
        request.session[TOUCH_KEY] = int(time.time())
