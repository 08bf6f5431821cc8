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


def test_a_number_lists_change_form_shows_its_own_first_entries(staff_client, tenant):
    """The entries inline shows the list's first 50 entries, whatever other lists hold."""
    from routing.admin import NumberListEntryInline
    from tests.factories import NumberListEntryFactory, NumberListFactory

    other = NumberListFactory(tenant=tenant, name="Other")
    for i in range(NumberListEntryInline.max_shown + 5):
        NumberListEntryFactory(number_list=other, value=f"1{i:03d}")
    mine = NumberListFactory(tenant=tenant, name="Mine")
    for i in range(NumberListEntryInline.max_shown + 3):
        NumberListEntryFactory(number_list=mine, value=f"9{i:03d}")
    page = staff_client.get(reverse("admin:routing_numberlist_change", args=[mine.pk]))
    assert page.status_code == 200
    formset = next(f for f in page.context["inline_admin_formsets"])
    values = [form.instance.value for form in formset.formset.forms]
    assert values == [f"9{i:03d}" for i in range(NumberListEntryInline.max_shown)]
