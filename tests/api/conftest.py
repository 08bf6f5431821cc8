"""API fixtures: token-authenticated clients per role, and a session client with CSRF checks."""

import pytest
from rest_framework.test import APIClient

from vmgate.models import APIToken


def token_client(user):
    _, key = APIToken.issue(user, "tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def anon_api():
    return APIClient()


@pytest.fixture
def op_api(operator):
    return token_client(operator)


@pytest.fixture
def viewer_api(viewer):
    return token_client(viewer)


@pytest.fixture
def other_op_api(other_operator):
    return token_client(other_operator)
