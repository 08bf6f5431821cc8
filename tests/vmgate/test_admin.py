"""Admin smoke: every changelist and add page works for staff and is closed to operators."""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import DialpeerFactory, RoutingTargetFactory, TrunkNetworkFactory

pytestmark = pytest.mark.django_db

# auth and axes (login throttling records, read-only) are third-party admins.
MODELS = [m for m in admin.site._registry if m._meta.app_label not in ("auth", "axes")]
IDS = [f"{m._meta.app_label}.{m._meta.model_name}" for m in MODELS]


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_admin_changelist_and_add_answer_200_for_staff(staff_client, model):
    DialpeerFactory()
    RoutingTargetFactory()
    TrunkNetworkFactory()
    meta = model._meta
    for page in ("changelist", "add"):
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_{page}")
        assert staff_client.get(url).status_code == 200, url


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_admin_redirects_an_operator_to_the_admin_login(op_client, model):
    meta = model._meta
    url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
    response = op_client.get(url)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_admin_validates_through_full_clean(staff_client, tenant, other_tenant):
    from tests.factories import CustomerFactory

    theirs = CustomerFactory(tenant=other_tenant)
    url = reverse("admin:customers_trunk_add")
    response = staff_client.post(
        url,
        {
            "tenant": tenant.pk,
            "customer": theirs.pk,
            "name": "t",
            "tech_prefix": "1",
            "max_concurrent_calls": 10,
            "codecs": '["PCMA"]',
            "status": "active",
            "networks-TOTAL_FORMS": 0,
            "networks-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
