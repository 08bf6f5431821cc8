"""Record payment in a real browser (Debian chromium via Playwright): a new prepaid customer
says why it takes no calls, the operator records its first payment through the form's
errors and the confirmation, and the page then shows the new balance and the entry."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from customers.models import BalanceEntry, Customer
from tests.factories import CustomerFactory, MembershipFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 900}


def both_sizes(page, shot, name):
    shot(page, f"{name}-1400")
    page.set_viewport_size(PHONE)
    shot(page, f"{name}-390")
    page.set_viewport_size(DESKTOP)


def test_operator_records_the_first_payment_of_a_new_prepaid_customer(
    page, login, shot, operator, tenant
):
    customer = CustomerFactory(tenant=tenant, name="Newco", balance=Decimal("0"))
    login("op-a")
    page.goto(f"/customers/{customer.pk}/")
    said = page.get_by_test_id("takes-calls")
    expect(said).to_contain_text("no")
    reason = said.get_by_text("Its prepaid balance is 0.00 USD")
    assert reason.is_visible()
    assert said.get_by_role("link", name="Record payment").is_visible()
    both_sizes(page, shot, "balance-customer-cannot-take-calls")

    page.get_by_test_id("balance-tab").click()
    expect(page.get_by_test_id("no-entries")).to_be_visible()
    page.get_by_test_id("record-payment").click()
    expect(page.locator("h1")).to_have_text("Record payment for Newco")

    # Empty: the amount is required, said under the field.
    page.click("button:has-text('Review')")
    error = page.locator(".invalid-feedback").filter(has_text="This field is required.")
    expect(error).to_have_count(1)
    assert error.is_visible()
    # A negative payment, then three decimals: each refused on screen, nothing written.
    page.fill("#id_amount", "-5")
    page.click("button:has-text('Review')")
    error = page.locator(".invalid-feedback").filter(has_text="enter an amount above 0")
    expect(error).to_have_count(1)
    assert error.is_visible()
    page.fill("#id_amount", "12.345")
    page.click("button:has-text('Review')")
    error = page.locator(".invalid-feedback").filter(has_text="at most 2 decimal places")
    expect(error).to_have_count(1)
    assert error.is_visible()
    # An adjustment without a note: the note's error.
    page.select_option("#id_kind", "adjustment")
    page.fill("#id_amount", "5")
    page.click("button:has-text('Review')")
    error = page.locator(".invalid-feedback").filter(has_text="needs a note")
    expect(error).to_have_count(1)
    assert error.is_visible()
    both_sizes(page, shot, "balance-record-payment-errors")
    assert not BalanceEntry.objects.exists()

    # A valid payment: review, the balance before → after, confirm.
    page.select_option("#id_kind", "payment")
    page.fill("#id_amount", "150.50")
    page.fill("#id_reference", "BT-2026-0042")
    page.click("button:has-text('Review')")
    before_after = page.get_by_test_id("before-after")
    expect(before_after).to_have_text("0.00 USD → 150.50 USD")
    assert before_after.is_visible()
    assert page.get_by_test_id("takes-calls-after").is_visible()
    expect(page.get_by_test_id("takes-calls-after")).to_have_text("yes")
    both_sizes(page, shot, "balance-record-payment-confirm")
    assert not BalanceEntry.objects.exists()
    page.click("button:has-text('Confirm payment')")

    message = page.get_by_text("Payment of 150.50 USD recorded for “Newco”")
    expect(message).to_be_visible()
    expect(page.get_by_test_id("balance-now")).to_have_text("150.50 USD")
    assert page.get_by_test_id("balance-now").is_visible()
    row = page.get_by_test_id("balance-entries").locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("op-a")
    expect(row).to_contain_text("+150.50 USD")
    expect(row).to_contain_text("BT-2026-0042")
    assert row.is_visible()
    both_sizes(page, shot, "balance-tab-after-payment")

    # The payment is a line of the customer's history, with who made it.
    page.get_by_role("tab", name="History").click()
    line = page.locator("#tab-history tr").filter(has_text="Payment +150.50 (ref. BT-2026-0042)")
    expect(line).to_have_count(1)
    expect(line).to_contain_text("op-a")
    assert line.is_visible()
    expect(page.locator("#tab-history")).to_have_class(re.compile(r"\bshow\b"))  # faded in
    shot(page, "balance-history-1400")

    page.get_by_role("tab", name="Details").click()
    expect(page.get_by_test_id("takes-calls")).to_have_text("yes")
    assert Customer.objects.get(pk=customer.pk).balance == Decimal("150.50")
    assert BalanceEntry.objects.get().created_by == operator


def test_a_viewer_sees_the_balance_tab_but_no_record_payment(page, login, tenant):
    MembershipFactory(tenant=tenant, role="viewer", user__username="view-a")
    customer = CustomerFactory(tenant=tenant, name="Newco", balance=Decimal("0"))
    BalanceEntry(customer=customer, kind="payment", amount=Decimal("7")).save()
    login("view-a")
    page.goto(f"/customers/{customer.pk}/?tab=balance")
    expect(page.get_by_test_id("balance-entries")).to_be_visible()
    expect(page.get_by_test_id("balance-now")).to_have_text("7.00 USD")
    expect(page.get_by_text("Record payment")).to_have_count(0)
