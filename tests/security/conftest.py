"""The browser test of the CSP uses the e2e suite's Chromium fixtures."""

from tests.e2e.conftest import browser, shot  # noqa: F401
