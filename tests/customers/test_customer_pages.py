"""Customer pages: block/unblock, delete refused with the reason, postpaid fields, history."""

from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import Customer
from tests.factories import CustomerFactory, TrunkFactory

pytestmark = pytest.mark.django_db


def test_operator_blocks_and_unblocks_a_customer_and_the_list_shows_it(op_client, tenant):
    customer = CustomerFactory(tenant=tenant, name="Acme")
    response = op_client.post(reverse("customers:customer_block", args=[customer.pk]))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.status == Customer.BLOCKED
    body = op_client.get(reverse("customers:customer_list")).content.decode()
    assert "Blocked" in body and "Unblock" in body
    op_client.post(reverse("customers:customer_unblock", args=[customer.pk]))
    customer.refresh_from_db()
    assert customer.status == Customer.ACTIVE
    assert [r.status for r in customer.history.all()][:2] == ["active", "blocked"]


def test_block_is_a_post_and_returns_to_the_page_it_came_from(op_client, tenant):
    customer = CustomerFactory(tenant=tenant)
    url = reverse("customers:customer_block", args=[customer.pk])
    assert op_client.get(url).status_code == 405
    detail = customer.get_absolute_url()
    assert op_client.post(url, {"next": detail})["Location"] == detail
    assert op_client.post(url, {"next": "//evil.example/"})["Location"] == reverse(
        "customers:customer_list"
    )


def test_block_of_another_tenants_customer_is_404_and_changes_nothing(op_client, other_tenant):
    theirs = CustomerFactory(tenant=other_tenant)
    assert op_client.post(reverse("customers:customer_block", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Customer.ACTIVE


def test_viewer_cannot_block(viewer_client, tenant):
    customer = CustomerFactory(tenant=tenant)
    url = reverse("customers:customer_block", args=[customer.pk])
    assert viewer_client.post(url).status_code == 403
    customer.refresh_from_db()
    assert customer.status == Customer.ACTIVE


def test_delete_is_shown_disabled_with_the_reason_while_the_customer_has_trunks(op_client, tenant):
    customer = CustomerFactory(tenant=tenant, name="Acme")
    TrunkFactory(customer=customer)
    TrunkFactory(customer=customer)
    body = op_client.get(reverse("customers:customer_list")).content.decode()
    assert "It has 2 trunks; delete them first." in body
    url = reverse("customers:customer_delete", args=[customer.pk])
    page = op_client.get(url).content.decode()
    assert "has 2 trunks" in page
    response = op_client.post(url)
    assert response.status_code == 302
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_postpaid_fields_are_validated_only_for_postpaid(op_client, tenant):
    base = {"name": "Acme", "country": "AM", "email": "", "phone": ""}
    # Prepaid: garbage in the hidden postpaid fields is neither validated nor saved.
    response = op_client.post(
        reverse("customers:customer_add"),
        {**base, "billing_type": "prepaid", "credit_limit": "-5", "overdraft_limit": "abc"},
    )
    assert response.status_code == 302
    customer = Customer.objects.get(name="Acme")
    assert customer.credit_limit == 0 and customer.overdraft_limit == 0
    # Postpaid: the same values are field errors, and nothing changes.
    edit = reverse("customers:customer_edit", args=[customer.pk])
    response = op_client.post(
        edit,
        {**base, "billing_type": "postpaid", "credit_limit": "-5", "overdraft_limit": "abc"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "credit_limit" in errors and "overdraft_limit" in errors
    customer.refresh_from_db()
    assert customer.billing_type == "prepaid"
    # Postpaid with valid terms saves them.
    response = op_client.post(
        edit,
        {
            **base,
            "billing_type": "postpaid",
            "credit_limit": "500",
            "overdraft_allowed": "on",
            "overdraft_limit": "50",
        },
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.credit_limit, customer.overdraft_limit) == (Decimal("500"), Decimal("50"))
    assert customer.overdraft_allowed


def test_overdraft_allowed_needs_a_limit(op_client, tenant):
    response = op_client.post(
        reverse("customers:customer_add"),
        {
            "name": "Acme",
            "country": "AM",
            "billing_type": "postpaid",
            "credit_limit": "10",
            "overdraft_allowed": "on",
            "overdraft_limit": "0",
        },
    )
    assert "overdraft_limit" in response.context["form"].errors


def test_the_balance_is_shown_but_not_editable(op_client, tenant):
    customer = CustomerFactory(tenant=tenant, balance=Decimal("12.5"))
    edit = reverse("customers:customer_edit", args=[customer.pk])
    page = op_client.get(edit).content.decode()
    assert "12.50 USD" in page and 'name="balance"' not in page
    op_client.post(
        edit,
        {"name": customer.name, "country": "AM", "billing_type": "prepaid", "balance": "999"},
    )
    customer.refresh_from_db()
    assert customer.balance == Decimal("12.5")
    listed = op_client.get(reverse("customers:customer_list")).content.decode()
    # The balance reads as on every page; the billing type has its own column, once.
    assert "12.50 USD<" in listed and "· prepaid" not in listed


def test_a_duplicate_name_is_a_field_error(op_client, tenant):
    CustomerFactory(tenant=tenant, name="Acme")
    response = op_client.post(
        reverse("customers:customer_add"),
        {"name": "ACME", "country": "AM", "billing_type": "prepaid"},
    )
    assert response.status_code == 200
    assert "already exists" in response.context["form"].errors["name"][0]


def test_customer_detail_shows_trunks_and_history_with_who_changed_what(op_client, tenant):
    customer = CustomerFactory(tenant=tenant, name="Acme")
    TrunkFactory(customer=customer, name="sbc-east")
    op_client.post(
        reverse("customers:customer_edit", args=[customer.pk]),
        {"name": "Acme", "country": "AM", "billing_type": "prepaid", "phone": "+37410"},
    )
    body = op_client.get(customer.get_absolute_url()).content.decode()
    assert "sbc-east" in body
    assert "op-a" in body and "+37410" in body


def test_customer_list_search_and_filters(op_client, tenant):
    CustomerFactory(tenant=tenant, name="Alpha", email="noc@alpha.example", country="FR")
    CustomerFactory(tenant=tenant, name="Beta", billing_type="postpaid", status="blocked")
    url = reverse("customers:customer_list")
    body = op_client.get(url, {"q": "alpha.example"}).content.decode()
    assert "Alpha" in body and "Beta" not in body
    body = op_client.get(url, {"billing_type": "postpaid"}).content.decode()
    assert "Beta" in body and "Alpha" not in body
    body = op_client.get(url, {"country": "FR"}).content.decode()
    assert "Alpha" in body and "Beta" not in body
    body = op_client.get(url, {"status": "blocked", "sort": "-trunk_count"}).content.decode()
    assert "Beta" in body and "Alpha" not in body


def test_a_garbage_filter_is_not_a_500(op_client, tenant):
    url = reverse("customers:customer_list")
    assert op_client.get(url, {"country": "\x00", "q": "a\x00b", "page": "x"}).status_code in (
        200,
        404,
    )
