"""Login, roles and the tenant choke point (SPEC §2)."""

import pytest
from django.core.management import call_command
from django.http import HttpRequest
from django.urls import reverse

from customers.models import Customer
from tests.factories import CustomerFactory, MembershipFactory
from vmgate.forms import TenantModelForm
from vmgate.tenancy import TenantRequired, parse_pk, scoped

pytestmark = pytest.mark.django_db


def test_home_requires_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_is_public(client):
    assert client.get(reverse("login")).status_code == 200


def test_operator_logs_in_with_a_password_and_sees_their_tenant(client, tenant):
    MembershipFactory(tenant=tenant, user__username="alice")
    response = client.post(reverse("login"), {"username": "alice", "password": "pw"})
    assert response.status_code == 302
    assert tenant.name in client.get(reverse("home")).content.decode()


def test_home_counts_only_the_tenants_own_rows(op_client, tenant, other_tenant):
    CustomerFactory(tenant=tenant)
    for _ in range(3):
        CustomerFactory(tenant=other_tenant)
    body = op_client.get(reverse("home")).content.decode()
    assert 'data-testid="count-customers">1<' in body


def test_viewer_posts_are_refused(viewer_client):
    assert viewer_client.post(reverse("home")).status_code == 403


def test_viewer_may_still_log_out(viewer_client):
    assert viewer_client.post(reverse("logout")).status_code == 302


def test_scoped_without_a_tenant_fails_closed(tenant):
    with pytest.raises(TenantRequired):
        scoped(Customer, None)


def test_scoped_returns_only_the_tenants_rows(tenant, other_tenant):
    mine = CustomerFactory(tenant=tenant)
    CustomerFactory(tenant=other_tenant)
    assert list(scoped(Customer, tenant)) == [mine]


class _TrunkForm(TenantModelForm):
    class Meta:
        from customers.models import Trunk

        model = Trunk
        fields = ["customer", "name", "tech_prefix"]


def test_a_tenant_form_needs_a_tenant():
    with pytest.raises(TypeError):
        _TrunkForm()  # the tenant argument is required
    with pytest.raises(ValueError):
        _TrunkForm(tenant=None)


def test_a_tenant_form_refuses_another_tenants_choice_like_a_missing_one(tenant, other_tenant):
    theirs = CustomerFactory(tenant=other_tenant)
    form = _TrunkForm({"customer": theirs.pk, "name": "t", "tech_prefix": "1"}, tenant=tenant)
    assert not form.is_valid()
    missing = _TrunkForm({"customer": 999999, "name": "t", "tech_prefix": "1"}, tenant=tenant)
    assert not missing.is_valid()
    assert form.errors["customer"] == missing.errors["customer"]
    assert "Select a valid choice" in form.errors["customer"][0]


def test_a_tenant_form_checks_unique_constraints_that_include_the_tenant(tenant):
    from django import forms as djforms

    class CustomerForm(TenantModelForm):
        class Meta:
            model = Customer
            fields = ["name", "country"]

    CustomerFactory(tenant=tenant, name="Acme")
    form = CustomerForm({"name": "acme", "country": "AM"}, tenant=tenant)
    assert not form.is_valid()
    assert "name" in form.errors or "__all__" in form.errors
    assert isinstance(form, djforms.ModelForm)


def test_seed_demo_is_idempotent(db):
    from django.apps import apps

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    models = [
        m
        for m in apps.get_models()
        if m._meta.app_label in ("vmgate", "customers", "routing", "dialpeers", "auth")
    ]
    first = {m.__name__: m.objects.count() for m in models}
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert {m.__name__: m.objects.count() for m in models} == first
    assert first["Tenant"] == 2
    assert first["Dialpeer"] == 8


def test_seed_demo_prints_the_logins(db, capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "operator" in out and "viewer" in out and "demo-pass" in out


def test_the_demo_operator_password_works(client, db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    from vmgate.management.commands.seed_demo import DEMO_PASSWORD

    assert client.login(request=HttpRequest(), username="operator", password=DEMO_PASSWORD)


def test_migrations_match_the_models(db):
    call_command("makemigrations", "--check", "--dry-run", stdout=open("/dev/null", "w"))


@pytest.mark.parametrize(
    "value, pk",
    [
        ("42", 42),
        (42, 42),
        ("9" * 18, int("9" * 18)),
        (2**63 - 1, 2**63 - 1),
        ("0", None),
        (0, None),
        (-3, None),
        (2**63, None),
        (True, None),
        ("", None),
        (None, None),
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1\x00", None),
        ("١٢", None),  # Arabic-Indic digits: isdigit() but not an id
        ("9" * 19, None),
        ("1.0", None),
    ],
)
def test_parse_pk_takes_only_a_positive_bigint_id(value, pk):
    assert parse_pk(value) == pk
