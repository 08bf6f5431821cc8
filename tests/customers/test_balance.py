"""Balances (SPEC §3 Customer / BalanceEntry): the ledger, the Balance tab, Record payment,
why a customer cannot take calls, the admin, the history, and the engine seeing a payment
on its next decision."""

import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import BalanceEntry, Customer
from routing.engine import index as route_index
from routing.engine import route_call
from routing.engine.refs import CustomerRef, snapshot
from tests.factories import CustomerFactory, build_route_world

pytestmark = pytest.mark.django_db


def add_url(customer):
    return reverse("customers:balanceentry_add", args=[customer.pk])


def detail(customer):
    return reverse("customers:customer_detail", args=[customer.pk])


def record(customer, amount, kind="payment", **kw):
    entry = BalanceEntry(customer=customer, kind=kind, amount=Decimal(amount), **kw)
    entry.full_clean()
    entry.save()
    return entry


def balance_of(customer):
    return Customer.objects.values_list("balance", flat=True).get(pk=customer.pk)


# The model ---------------------------------------------------------------------------------


def test_an_entry_moves_the_balance_and_records_the_balance_it_left(tenant, operator):
    customer = CustomerFactory(tenant=tenant, balance=Decimal("0"))
    first = record(customer, "100", reference="BT-1", created_by=operator)
    assert balance_of(customer) == Decimal("100")
    assert (first.balance_before, first.balance_after) == (Decimal("0"), Decimal("100"))
    second = record(customer, "-30.5", kind="adjustment", note="double-counted fee")
    assert balance_of(customer) == Decimal("69.5")
    assert second.balance_after == Decimal("69.5")
    # The caller's instance shows the new balance too.
    assert customer.balance == Decimal("69.5")


def test_an_entry_is_never_edited_or_deleted(tenant):
    entry = record(CustomerFactory(tenant=tenant, balance=0), "10")
    entry.amount = Decimal("1000")
    with pytest.raises(ValidationError, match="never edited"):
        entry.save()
    with pytest.raises(ValidationError, match="never deleted"):
        entry.delete()
    assert BalanceEntry.objects.get().amount == Decimal("10")
    assert balance_of(entry.customer) == Decimal("10")


def test_saving_the_customer_never_writes_back_a_stale_balance(tenant):
    customer = CustomerFactory(tenant=tenant, balance=Decimal("0"))
    stale = Customer.objects.get(pk=customer.pk)  # e.g. an edit form opened before
    record(customer, "50")
    stale.name = "Renamed"
    stale.save()
    assert balance_of(customer) == Decimal("50")
    assert Customer.objects.get(pk=customer.pk).name == "Renamed"


@pytest.mark.parametrize(
    "kind, amount, note, field, message",
    [
        ("payment", "0", "", "amount", "above 0"),
        ("payment", "-5", "", "amount", "above 0"),
        ("adjustment", "0", "typo", "amount", "changes nothing"),
        ("adjustment", "5", "", "note", "needs a note"),
        ("adjustment", "5", "   ", "note", "needs a note"),
        ("payment", "1.234", "", "amount", "2 decimal places"),
        ("payment", "10000000000", "", "amount", "below 10,000,000,000"),
    ],
)
def test_the_model_refuses_bad_entries(tenant, kind, amount, note, field, message):
    customer = CustomerFactory(tenant=tenant, balance=0)
    entry = BalanceEntry(customer=customer, kind=kind, amount=Decimal(amount), note=note)
    with pytest.raises(ValidationError) as exc:
        entry.full_clean()
    assert message in " ".join(exc.value.message_dict[field])


def test_a_balance_beyond_its_range_is_refused_before_anything_is_written(tenant):
    customer = CustomerFactory(tenant=tenant, balance=0)
    record(customer, "9999999999.99")
    entry = BalanceEntry(customer=customer, kind="payment", amount=Decimal("0.01"))
    with pytest.raises(ValidationError, match="beyond"):
        entry.full_clean()
    assert BalanceEntry.objects.count() == 1
    assert balance_of(customer) == Decimal("9999999999.99")


def test_the_database_refuses_what_the_model_refuses(tenant):
    # The check constraints are the backstop for writes that skip full_clean().
    from django.db import IntegrityError, transaction

    customer = CustomerFactory(tenant=tenant, balance=0)
    for kind, amount, note in (
        ("payment", "-1", ""),
        ("adjustment", "0", "x"),
        ("adjustment", "1", ""),
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            BalanceEntry(customer=customer, kind=kind, amount=Decimal(amount), note=note).save()
    assert BalanceEntry.objects.count() == 0
    assert balance_of(customer) == 0


# One balance rule ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, reason",
    [
        ({"billing_type": "prepaid", "balance": Decimal("0")}, "prepaid balance is 0.00 USD"),
        ({"billing_type": "prepaid", "balance": Decimal("0.01")}, None),
        (
            {"billing_type": "postpaid", "balance": Decimal("-10"), "credit_limit": Decimal("10")},
            "balance -10.00 + credit line 10.00 = 0.00 USD",
        ),
        (
            {
                "billing_type": "postpaid",
                "balance": Decimal("-10"),
                "credit_limit": Decimal("5"),
                "overdraft_allowed": True,
                "overdraft_limit": Decimal("6"),
            },
            None,
        ),
        ({"billing_type": "postpaid", "balance": Decimal("-1e6"), "credit_unlimited": True}, None),
    ],
)
def test_one_rule_says_why_and_the_engine_uses_it(tenant, fields, reason):
    customer = Customer(tenant=tenant, name="X", country="AM", **fields)
    refusal = customer.balance_refusal("USD")
    assert (refusal is None) is (reason is None)
    if reason:
        assert reason in refusal
    assert (
        snapshot(CustomerRef, customer).can_take_calls()
        is customer.can_take_calls()
        is (reason is None)
    )


# The engine sees a payment at once -------------------------------------------------------------


def test_a_prepaid_customer_at_zero_routes_on_the_next_decision_after_its_first_payment(tenant):
    world = build_route_world(tenant)
    customer = world["customer"]
    Customer.objects.filter(pk=customer.pk).update(balance=0)
    route_index.reset()

    def decide():
        # Live traffic's own call: ingress by source IP, decided over the in-memory index.
        return route_call(tenant, called_number="9937412345", source_ip="203.0.113.5")

    refused = decide()
    assert (refused.reason, refused.sip_code) == ("insufficient_balance", 402)
    index = route_index._indexes[tenant.pk]
    record(customer, "25.00", reference="BT-77")
    routed = decide()  # the very next decision, same process
    assert routed.routed and routed.dialpeer.pk == world["dialpeer"].pk
    # The index learnt the change from the change log (a customer row), not by a rebuild.
    assert route_index._indexes[tenant.pk] is index
    assert index.customers[customer.pk].balance == Decimal("25")
    # And a correction back to 0 stops it again.
    record(customer, "-25.00", kind="adjustment", note="payment bounced")
    assert decide().reason == "insufficient_balance"


# Pages ------------------------------------------------------------------------------------


def test_a_new_prepaid_customer_says_why_it_takes_no_calls_and_what_would_change_it(
    op_client, tenant
):
    customer = CustomerFactory(tenant=tenant, name="Newco", balance=0)
    html = op_client.get(detail(customer)).content.decode()
    said = html.split('data-testid="takes-calls"', 1)[1].split("</dd>", 1)[0]
    assert ">no<" in said
    assert "Its prepaid balance is 0.00 USD: a prepaid customer needs a balance above 0." in said
    assert f'href="{add_url(customer)}"' in said and "Record payment" in said


def test_a_blocked_postpaid_customer_names_both_reasons_and_both_actions(op_client, tenant):
    customer = CustomerFactory(
        tenant=tenant, billing_type="postpaid", balance=Decimal("-20"), status="blocked"
    )
    html = op_client.get(detail(customer)).content.decode()
    said = html.split('data-testid="takes-calls"', 1)[1].split("</dd>", 1)[0]
    assert "It is blocked" in said
    assert reverse("customers:customer_unblock", args=[customer.pk]) in said
    assert "balance -20.00 + credit line 0.00 = -20.00 USD" in said
    assert "Raise the credit line" in said and add_url(customer) in said


def test_a_customer_that_takes_calls_says_yes(op_client, tenant):
    customer = CustomerFactory(tenant=tenant, balance=Decimal("5"))
    html = op_client.get(detail(customer)).content.decode()
    said = html.split('data-testid="takes-calls"', 1)[1].split("</dd>", 1)[0]
    assert ">yes<" in said and "Record payment" not in said


def test_the_balance_tab_lists_entries_newest_first_with_who_and_the_running_balance(
    op_client, tenant, operator
):
    customer = CustomerFactory(tenant=tenant, balance=0)
    record(customer, "100", reference="BT-1", created_by=operator)
    record(customer, "-40", kind="adjustment", note="refund of call 7")
    html = op_client.get(detail(customer) + "?tab=balance").content.decode()
    assert re.search(r'class="tab-pane fade show active" id="tab-balance"', html)
    table = html.split('data-testid="balance-entries"', 1)[1].split("</table>", 1)[0]
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", table)]
    rows = [cells[i : i + 7][1:] for i in range(0, len(cells), 7)]
    assert rows == [
        ["Adjustment", "-40.00 USD", "60.00 USD", "system", "—", "refund of call 7"],
        ["Payment", "+100.00 USD", "100.00 USD", "op-a", "BT-1", "—"],
    ]
    assert 'data-testid="record-payment"' in html


def test_viewers_see_the_tab_but_never_the_action(viewer_client, tenant):
    customer = CustomerFactory(tenant=tenant, balance=0)
    record(customer, "10")
    html = viewer_client.get(detail(customer)).content.decode()
    assert 'data-testid="balance-entries"' in html
    assert add_url(customer) not in html and "Record payment</a>" not in html
    assert "An operator can record a payment" not in html  # it takes calls now
    assert viewer_client.get(add_url(customer)).status_code == 403
    body = {"kind": "payment", "amount": "5", "confirm": "1"}
    assert viewer_client.post(add_url(customer), body).status_code == 403
    assert balance_of(customer) == Decimal("10") and BalanceEntry.objects.count() == 1


def test_record_payment_reviews_then_confirms(op_client, tenant, operator):
    customer = CustomerFactory(tenant=tenant, name="Newco", balance=0)
    form = op_client.get(add_url(customer))
    assert form.status_code == 200 and "Current balance" in form.content.decode()
    body = {"kind": "payment", "amount": "150.5", "reference": "BT-9", "note": ""}
    review = op_client.post(add_url(customer), body)
    html = review.content.decode()
    assert review.status_code == 200 and BalanceEntry.objects.count() == 0
    assert "0.00 USD → <strong>150.50 USD</strong>" in html
    assert 'name="confirm"' in html
    done = op_client.post(add_url(customer), {**body, "confirm": "1"})
    assert done.status_code == 302
    assert done["Location"] == detail(customer) + "?tab=balance"
    entry = BalanceEntry.objects.get()
    assert (entry.amount, entry.reference, entry.created_by) == (Decimal("150.5"), "BT-9", operator)
    assert balance_of(customer) == Decimal("150.5")
    page = op_client.get(done["Location"]).content.decode()
    assert "Payment of 150.50 USD recorded for “Newco”: balance 0.00 USD → 150.50 USD." in page


def test_change_goes_back_to_the_form_with_the_values(op_client, tenant):
    customer = CustomerFactory(tenant=tenant, balance=0)
    body = {"kind": "payment", "amount": "12", "reference": "R", "edit": "1"}
    html = op_client.post(add_url(customer), body).content.decode()
    assert 'data-testid="balance-entry-form"' in html and 'value="12"' in html
    assert BalanceEntry.objects.count() == 0


BAD_FORMS = [
    ({}, "amount", "This field is required."),
    ({"kind": "payment", "amount": "0"}, "amount", "enter an amount above 0"),
    ({"kind": "payment", "amount": "-5"}, "amount", "enter an amount above 0"),
    ({"kind": "adjustment", "amount": "0", "note": "x"}, "amount", "changes nothing"),
    ({"kind": "adjustment", "amount": "-5"}, "note", "needs a note"),
    ({"kind": "payment", "amount": "1.005"}, "amount", "at most 2 decimal places"),
    ({"kind": "payment", "amount": "ten"}, "amount", "Enter a number."),
    ({"kind": "payment", "amount": "NaN"}, "amount", "Enter a number."),
    ({"kind": "payment", "amount": "1e30"}, "amount", "below 10,000,000,000"),
    ({"kind": "payment", "amount": "9" * 40}, "amount", "below 10,000,000,000"),
    ({"kind": "gift", "amount": "5"}, "kind", "Select a valid choice"),
    ({"kind": "payment", "amount": "5", "reference": "x" * 101}, "reference", "at most 100"),
    ({"kind": "payment", "amount": "5", "reference": "a\x00b"}, "reference", "Null characters"),
]


@pytest.mark.parametrize("body, field, message", BAD_FORMS)
@pytest.mark.parametrize("step", ["review", "confirm"])
def test_bad_input_is_a_field_error_and_writes_nothing(
    op_client, tenant, body, field, message, step
):
    customer = CustomerFactory(tenant=tenant, balance=Decimal("3"))
    if step == "confirm":
        body = {**body, "confirm": "1"}
    response = op_client.post(add_url(customer), body)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert message in " ".join(errors[field])
    html = response.content.decode()
    assert "is-invalid" in html
    assert BalanceEntry.objects.count() == 0 and balance_of(customer) == Decimal("3")


def test_another_tenants_customer_is_not_found(op_client, other_tenant):
    theirs = CustomerFactory(tenant=other_tenant, balance=0)
    assert op_client.get(add_url(theirs)).status_code == 404
    body = {"kind": "payment", "amount": "5", "confirm": "1"}
    assert op_client.post(add_url(theirs), body).status_code == 404
    assert op_client.get(detail(theirs) + "?tab=balance").status_code == 404
    assert BalanceEntry.objects.count() == 0 and balance_of(theirs) == 0


def test_a_malformed_page_position_reads_as_the_first_page(op_client, tenant):
    customer = CustomerFactory(tenant=tenant, balance=0)
    record(customer, "1")
    for before in ("x", "-1", "9" * 40, "1\x00"):
        response = op_client.get(detail(customer), {"tab": "balance", "before": before})
        assert response.status_code == 200
        assert 'data-testid="balance-entries"' in response.content.decode()


def test_older_entries_page_by_position(op_client, tenant):
    from customers.views import BALANCE_PAGE

    customer = CustomerFactory(tenant=tenant, balance=0)
    for i in range(BALANCE_PAGE + 3):
        record(customer, f"{i + 1}")
    html = op_client.get(detail(customer) + "?tab=balance").content.decode()
    assert html.count("<tr data-entry=") == BALANCE_PAGE
    older = re.search(r'href="\?tab=balance&amp;before=(\d+)"', html).group(1)
    html = op_client.get(detail(customer), {"tab": "balance", "before": older}).content.decode()
    assert html.count("<tr data-entry=") == 3
    assert "+1.00 USD" in html and "older-entries" not in html


def test_the_customer_page_costs_the_same_queries_at_1_and_50_entries(op_client, tenant, operator):
    customer = CustomerFactory(tenant=tenant, balance=0)
    record(customer, "1", created_by=operator)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert op_client.get(detail(customer) + "?tab=balance").status_code == 200
        return len(queries)

    one = count()
    for i in range(49):
        record(customer, "1", created_by=operator if i % 2 else None)
    assert count() == one


# History and the change log ---------------------------------------------------------------------


def test_every_entry_is_in_the_customers_history_and_the_change_log(op_client, tenant, operator):
    customer = CustomerFactory(tenant=tenant, name="Newco", balance=0)
    body = {"kind": "payment", "amount": "100", "reference": "BT-1", "confirm": "1"}
    assert op_client.post(add_url(customer), body).status_code == 302
    adjust = {"kind": "adjustment", "amount": "-2.5", "note": "bank fee", "confirm": "1"}
    assert op_client.post(add_url(customer), adjust).status_code == 302

    html = op_client.get(detail(customer)).content.decode()
    history = html.split('id="tab-history"', 1)[1]
    assert "Balance entry</span>:" in history
    assert "Payment +100.00 (ref. BT-1)" in history and "Adjustment -2.50" in history
    assert history.count("<td>op-a</td>") >= 2

    log = op_client.get("/changes/", {"kind": "balanceentry"}).content.decode()
    assert "Payment +100.00 (ref. BT-1) for Newco" in log
    assert "Adjustment -2.50 for Newco" in log
    assert "bank fee" in log and "<td>op-a</td>" in log


# Admin ----------------------------------------------------------------------------------


def test_admin_balance_is_read_only_and_entries_are_added_inline(staff_client, tenant, staff_user):
    customer = CustomerFactory(tenant=tenant, name="Newco", balance=0)
    record(customer, "10")
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    page = staff_client.get(url)
    html = page.content.decode()
    assert 'name="balance"' not in html
    assert 'name="balance_entries-0-amount"' not in html  # the recorded entry is read-only
    assert "balance_entries-__prefix__-amount" in html  # … and a new one can be added
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        {
            "tenant": tenant.pk,
            "name": "Newco",
            "country": "AM",
            "billing_type": "prepaid",
            "status": "active",
            "credit_limit": "0",
            "overdraft_limit": "0",
            "balance": "-20",  # ignored: read-only
            "balance_entries-TOTAL_FORMS": "2",
            "balance_entries-INITIAL_FORMS": "1",
            "balance_entries-MIN_NUM_FORMS": "0",
            "balance_entries-MAX_NUM_FORMS": "1000",
            "balance_entries-0-id": str(customer.balance_entries.get().pk),
            "balance_entries-0-customer": str(customer.pk),
            "balance_entries-1-customer": str(customer.pk),
            "balance_entries-1-kind": "adjustment",
            "balance_entries-1-amount": "5",
            "balance_entries-1-note": "goodwill",
        }
    )
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.context["errors"]
    assert balance_of(customer) == Decimal("15")
    added = customer.balance_entries.order_by("-id").first()
    assert (added.kind, added.created_by) == ("adjustment", staff_user)


def test_admin_inline_refuses_an_adjustment_without_a_note(staff_client, tenant):
    customer = CustomerFactory(tenant=tenant, name="Newco", balance=0)
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    data = {
        "tenant": tenant.pk,
        "name": "Newco",
        "country": "AM",
        "billing_type": "prepaid",
        "status": "active",
        "credit_limit": "0",
        "overdraft_limit": "0",
        "balance_entries-TOTAL_FORMS": "1",
        "balance_entries-INITIAL_FORMS": "0",
        "balance_entries-MIN_NUM_FORMS": "0",
        "balance_entries-MAX_NUM_FORMS": "1000",
        "balance_entries-0-customer": str(customer.pk),
        "balance_entries-0-kind": "adjustment",
        "balance_entries-0-amount": "5",
    }
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert "needs a note" in response.content.decode()
    assert balance_of(customer) == 0 and BalanceEntry.objects.count() == 0


def test_admin_entries_list_has_the_tenant_filter_and_no_edit_or_delete(
    staff_client, tenant, other_tenant
):
    record(CustomerFactory(tenant=tenant, name="Ours", balance=0), "10")
    record(CustomerFactory(tenant=other_tenant, name="Theirs", balance=0), "20")
    changelist = reverse("admin:customers_balanceentry_changelist")
    html = staff_client.get(changelist, {"customer__tenant__id__exact": tenant.pk}).content
    html = html.decode()
    assert "Ours" in html and "Theirs" not in html
    entry = BalanceEntry.objects.get(customer__name="Ours")
    change = staff_client.get(reverse("admin:customers_balanceentry_change", args=[entry.pk]))
    assert change.status_code == 200 and 'name="amount"' not in change.content.decode()
    delete = reverse("admin:customers_balanceentry_delete", args=[entry.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    assert BalanceEntry.objects.count() == 2
