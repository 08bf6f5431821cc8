"""Customers (carriers that send SIP to the tenant), their ingress trunks, rate plans."""

from contextlib import contextmanager
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import DataError, connection, models, transaction
from django.db.models import Case, F, OuterRef, Q, Subquery, Value, When, Window
from django.db.models.functions import Lead, Lower
from django.utils import timezone
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from customers.ingress_guard import CONSTRAINT as INGRESS_CONSTRAINT
from customers.netutils import networks_overlap, normalise_network
from routing.dialplan import CATCH_ALL, label_for_code
from vmgate.links import url_or_blank
from vmgate.models import TenantOwned
from vmgate.tenancy import check_same_tenant
from vmgate.validators import digits_code, iso_currency, no_nul, tech_prefix_chars

CODEC_CHOICES = [(c, c) for c in ("PCMA", "PCMU", "G729", "G722", "OPUS", "GSM")]
CODECS = [c for c, _ in CODEC_CHOICES]


def default_codecs():
    return ["PCMA", "PCMU"]


#: Every amount and balance stays below this in magnitude (SPEC §3: |amount| < 10^10).
MONEY_LIMIT = Decimal("10") ** 10


def money(value, currency=""):
    """``1234.5`` → ``"1,234.50 USD"``: how the portal shows an amount of the tenant's money."""
    text = f"{value:,.2f}"
    return f"{text} {currency}" if currency else text


def balance_refusal(customer, currency=""):
    """SPEC §5 step 5, the one balance rule: why ``customer`` has no money for a new call,
    or None when it has. Prepaid needs ``balance > 0``; postpaid needs unlimited credit or
    ``balance + credit_limit (+ overdraft_limit if allowed) > 0``.

    ``customer`` is a :class:`Customer` or anything with its billing attributes (the
    routing engine's snapshot), so the pages and live traffic apply the very same rule.
    """
    balance = customer.balance
    if customer.billing_type == "prepaid":
        if balance > 0:
            return None
        return (
            f"Its prepaid balance is {money(balance, currency)}: "
            "a prepaid customer needs a balance above 0."
        )
    if customer.credit_unlimited:
        return None
    headroom = balance + customer.credit_limit
    if customer.overdraft_allowed:
        headroom += customer.overdraft_limit
    if headroom > 0:
        return None
    # The words only for a refusal: live traffic runs this rule on every call.
    terms = f"balance {money(balance)} + credit line {money(customer.credit_limit)}"
    if customer.overdraft_allowed:
        terms += f" + overdraft {money(customer.overdraft_limit)}"
    return (
        f"Its {terms} = {money(headroom, currency)}: "
        "a postpaid customer needs more than 0 to spend."
    )


class Customer(TenantOwned):
    """The carrier (wholesale switch or retail carrier) that sends SIP to the tenant.

    Its billing type and balance gate new calls; ``blocked`` stops new traffic while keeping
    configuration. It can only be deleted while it has no trunks (PROTECT on Trunk.customer).
    """

    PREPAID, POSTPAID = "prepaid", "postpaid"
    BILLING_CHOICES = [(PREPAID, "Prepaid"), (POSTPAID, "Postpaid")]
    ACTIVE, BLOCKED = "active", "blocked"
    STATUS_CHOICES = [(ACTIVE, "Active"), (BLOCKED, "Blocked")]

    name = models.CharField(max_length=200, validators=[no_nul])
    country = CountryField()
    email = models.EmailField(blank=True, verbose_name="contact email")
    phone = models.CharField(max_length=40, blank=True, validators=[no_nul])
    billing_type = models.CharField(max_length=10, choices=BILLING_CHOICES, default=PREPAID)
    #: Moved only by BalanceEntry rows (``balance = balance + amount`` in the database);
    #: never written by a save of the customer (see save()).
    balance = models.DecimalField(
        max_digits=14, decimal_places=4, default=Decimal("0"), editable=False
    )
    credit_limit = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        verbose_name="credit line",
    )
    credit_unlimited = models.BooleanField(default=False, verbose_name="unlimited credit")
    overdraft_allowed = models.BooleanField(default=False, verbose_name="allow overdraft")
    overdraft_limit = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        verbose_name="overdraft limit",
    )
    status = models.CharField(max_length=10, choices=STATUS_CHOICES, default=ACTIVE)
    #: How many trunks the customer has: kept by database triggers on the trunk table
    #: (customers/trunk_count.py), never written by Django (see save()).
    trunk_count = models.PositiveIntegerField(
        default=0, db_default=0, editable=False, verbose_name="trunks"
    )

    # The count is derived data, changed by triggers without a save: no history of it. (The
    # balance is not editable, so History tabs never diff it: each movement is recorded by
    # its BalanceEntry, with who and why.)
    history = HistoricalRecords(excluded_fields=["trunk_count"])

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            # The customers list sorted by trunk count (ties by id, either way round)
            # without counting anything.
            models.Index(fields=["tenant", "trunk_count", "id"], name="customer_trunk_count")
        ]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                "tenant",
                name="customer_name_ci_unique_per_tenant",
                violation_error_message="A customer with this name already exists.",
            ),
            models.CheckConstraint(
                condition=models.Q(credit_limit__gte=0), name="customer_credit_limit_gte_0"
            ),
            models.CheckConstraint(
                condition=models.Q(overdraft_limit__gte=0), name="customer_overdraft_limit_gte_0"
            ),
        ]

    #: Written by the database (triggers, ``balance + amount``), never by a save.
    DERIVED_FIELDS = ("trunk_count", "balance")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return url_or_blank("customers:customer_detail", self.pk)

    def clean(self):
        # A malformed value (a NUL byte) already has its field error; PostgreSQL would
        # refuse to even compare it.
        if self.name and "\x00" not in self.name and self.tenant_id:
            clash = Customer.objects.filter(tenant_id=self.tenant_id, name__iexact=self.name)
            if clash.exclude(pk=self.pk).exists():
                raise ValidationError({"name": "A customer with this name already exists."})

    def save(self, *args, **kwargs):
        # trunk_count belongs to the triggers and balance to the balance entries: an UPDATE
        # from a form, the admin or the API must not write back the value this instance
        # happened to load (a payment recorded meanwhile would be lost).
        if (
            not self._state.adding
            and not args
            and kwargs.get("update_fields") is None
            and not kwargs.get("force_insert")
        ):
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in self.DERIVED_FIELDS
            ]
        super().save(*args, **kwargs)

    def balance_refusal(self, currency=""):
        """Why there is no money (or credit) for a new call, or None (:func:`balance_refusal`)."""
        return balance_refusal(self, currency)

    def can_take_calls(self):
        """SPEC §5 step 5: is there money (or credit) for a new call?"""
        return balance_refusal(self) is None

    def call_refusals(self, currency=""):
        """Every reason this customer's new calls are refused now, as ``(what, reason)`` pairs
        (``what``: ``"blocked"`` or ``"balance"``), for its page to say why and what to do."""
        out = []
        if self.status == self.BLOCKED:
            out.append(("blocked", "It is blocked: new calls from its trunks are refused."))
        reason = self.balance_refusal(currency)
        if reason:
            out.append(("balance", reason))
        return out


class RatePlan(TenantOwned):
    """A named price list (prefix → per-minute rate) that bills the legs of the trunks using it."""

    ACTIVE, DISABLED = "active", "disabled"
    STATUS_CHOICES = [(ACTIVE, "Active"), (DISABLED, "Disabled")]

    name = models.CharField(max_length=200, validators=[no_nul])
    currency = models.CharField(max_length=3, default="USD", validators=[iso_currency])
    status = models.CharField(max_length=10, choices=STATUS_CHOICES, default=ACTIVE)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "name"],
                name="rateplan_name_unique_per_tenant",
                violation_error_message="A rate plan with this name already exists.",
            )
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return url_or_blank("customers:rateplan_detail", self.pk)


class RateQuerySet(models.QuerySet):
    """Rates with their derived validity, computed in SQL for the whole page at once."""

    def with_validity(self, now=None, *, window=True):
        """Annotate ``valid_to`` (the next rate's ``valid_since`` for the same plan and code)
        and ``status``: ``future`` (not yet in effect), ``superseded`` (a newer rate took
        over) or ``current``. No per-row query in either form:

        - ``window=True`` (lists): a ``LEAD()`` window over (plan, code). The window sees only
          rows that pass the WHERE clause, so filter afterwards only by plan, by code (whole
          partitions) or through :meth:`in_effect_at`; never ``.get(pk=…)`` on it.
        - ``window=False`` (one row, e.g. a detail page, or the 25 rows of a list page): a
          correlated subquery, one probe of the (plan, code, valid_since) index per row,
          correct whatever the filter.
        """
        now = now or timezone.now()
        if window:
            valid_to = Window(
                Lead("valid_since"),
                partition_by=[F("rate_plan_id"), F("code")],
                order_by=[F("valid_since").asc()],
            )
        else:
            valid_to = Subquery(
                Rate.objects.filter(
                    rate_plan_id=OuterRef("rate_plan_id"),
                    code=OuterRef("code"),
                    valid_since__gt=OuterRef("valid_since"),
                )
                .order_by("valid_since")
                .values("valid_since")[:1]
            )
        return self.annotate(valid_to=valid_to).annotate(
            status=Case(
                When(valid_since__gt=now, then=Value("future")),
                When(valid_to__lte=now, then=Value("superseded")),
                default=Value("current"),
            )
        )

    def code_starts_with(self, prefix):
        """Rates whose code starts with ``prefix``.

        ``LIKE 'prefix%'`` cannot use a btree index under a non-"C" collation (PostgreSQL
        then reads and sorts the whole plan), so a digit prefix also becomes the range
        ``prefix <= code < next prefix``: an index range scan on ``rate_list_order`` that
        returns the rows already in (code, valid_since) order. Digit strings sort the same
        way in every collation, so the range selects exactly the rows LIKE keeps."""
        qs = self.filter(code__startswith=prefix)
        if not (prefix.isascii() and prefix.isdigit()):
            return qs
        qs = qs.filter(code__gte=prefix)
        upper = prefix.rstrip("9")
        if upper:  # "29" -> "3"; an all-nines prefix has no upper bound among digit codes
            qs = qs.filter(code__lt=upper[:-1] + chr(ord(upper[-1]) + 1))
        return qs

    def in_effect_at(self, at):
        """The rates in effect at ``at``: started, and not yet superseded then.

        The whole condition is one expression over the window, so PostgreSQL filters after
        the window is computed (a plain ``valid_since`` filter would drop the next rate from
        the window and blank ``valid_to``)."""
        qs = self if "valid_to" in self.query.annotations else self.with_validity()
        return qs.annotate(
            in_effect=Case(
                When(
                    Q(valid_since__lte=at) & (Q(valid_to__isnull=True) | Q(valid_to__gt=at)),
                    then=Value(True),
                ),
                default=Value(False),
            )
        ).filter(in_effect=True)


class Rate(models.Model):
    """One destination of a rate plan: the price of calls to ``code``… from ``valid_since``."""

    tenant_path = "rate_plan__tenant"

    rate_plan = models.ForeignKey(RatePlan, on_delete=models.CASCADE, related_name="rates")
    code = models.CharField(max_length=15, blank=True, validators=[digits_code])
    description = models.CharField(max_length=200, blank=True, validators=[no_nul])
    valid_since = models.DateTimeField(verbose_name="valid since (UTC)")
    rate_per_min = models.DecimalField(
        max_digits=12,
        decimal_places=6,
        validators=[MinValueValidator(Decimal("0"))],
        verbose_name="rate per minute",
    )
    connection_fee = models.DecimalField(
        max_digits=12,
        decimal_places=6,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    connection_sec = models.PositiveIntegerField(default=0)
    billing_block_sec = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])

    history = HistoricalRecords()

    objects = RateQuerySet.as_manager()

    class Meta:
        ordering = ["code", "valid_since", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rate_plan", "code", "valid_since"],
                name="rate_unique_code_since",
                violation_error_message="This plan already has a rate for this code from this time.",
            ),
            models.CheckConstraint(
                condition=models.Q(rate_per_min__gte=0), name="rate_per_min_gte_0"
            ),
            models.CheckConstraint(
                condition=models.Q(connection_fee__gte=0), name="rate_connection_fee_gte_0"
            ),
            models.CheckConstraint(
                condition=models.Q(billing_block_sec__gte=1), name="rate_billing_block_gte_1"
            ),
        ]
        indexes = [
            # The list order (plan, code, valid_since, id), index-only: a late page walks the
            # index without sorting, and the valid-to window over (plan, code) reads its
            # rows in order instead of sorting the plan (the unique constraint's index
            # serves the per-row valid-to lookups).
            models.Index(fields=["rate_plan", "code", "valid_since", "id"], name="rate_list_order")
        ]

    def __str__(self):
        return f"{self.code or CATCH_ALL} — {self.description} @ {self.rate_per_min}"

    def save(self, *args, **kwargs):
        self.fill_defaults()
        super().save(*args, **kwargs)

    def fill_defaults(self):
        """An empty description is filled from the dialplan (every write path: the page,
        the API, the import's bulk writes)."""
        if not self.description:
            self.description = label_for_code(self.code)


class Trunk(TenantOwned):
    """A Customer's SIP ingress: the source networks it may send from and its tech prefix.

    Within a tenant, two trunks whose networks overlap must not share a tech prefix, or
    ingress by source IP would be ambiguous.
    """

    ACTIVE, DISABLED = "active", "disabled"
    STATUS_CHOICES = [(ACTIVE, "Active"), (DISABLED, "Disabled")]

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="trunks"
    )
    name = models.CharField(max_length=200, validators=[no_nul], verbose_name="trunk name")
    tech_prefix = models.CharField(
        max_length=10,
        validators=[tech_prefix_chars],
        help_text="Stripped from the start of the called number before routing (0-9, #, *).",
    )
    rate_plan = models.ForeignKey(
        "customers.RatePlan",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="trunks",
    )
    max_concurrent_calls = models.PositiveIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(1_000_000)]
    )
    codecs = models.JSONField(default=default_codecs)
    status = models.CharField(max_length=10, choices=STATUS_CHOICES, default=ACTIVE)
    max_cps = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(1_000_000)],
        verbose_name="max calls per second",
        help_text="New calls per second the SIP edge accepts from this trunk; above it "
        "503 with Retry-After. Empty: no limit.",
    )
    ingress_translation = models.ForeignKey(
        "routing.TranslationSet",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ingress_trunks",
        help_text="Rewrites the number after the tech prefix, before routing. Empty: as sent.",
    )
    number_lists = models.ManyToManyField(
        "routing.NumberList",
        through="customers.TrunkNumberList",
        blank=True,
        related_name="trunks",
        help_text="Every list is checked on each call: a matching deny list or a "
        "non-matching allow list refuses it (403).",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["customer__name", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "name"],
                name="trunk_name_unique_per_customer",
                violation_error_message="This customer already has a trunk with this name.",
            ),
            models.CheckConstraint(
                condition=models.Q(max_concurrent_calls__gte=1), name="trunk_max_calls_gte_1"
            ),
            models.CheckConstraint(
                condition=models.Q(max_cps__isnull=True) | models.Q(max_cps__gte=1),
                name="trunk_max_cps_gte_1",
            ),
        ]

    def __str__(self):
        return f"{self.customer.name} / {self.name}" if self.customer_id else self.name

    #: Set by a form that edits the networks with the trunk: the networks being submitted.
    _pending_networks = None

    def get_absolute_url(self):
        return url_or_blank("customers:trunk_detail", self.pk)

    def clean(self):
        errors = check_same_tenant(
            self.tenant_id,
            customer=self.customer if self.customer_id else None,
            rate_plan=self.rate_plan if self.rate_plan_id else None,
            ingress_translation=(self.ingress_translation if self.ingress_translation_id else None),
        )
        codecs = self.codecs
        if not isinstance(codecs, list) or not codecs:
            errors["codecs"] = "Choose at least one codec."
        elif any(c not in CODECS for c in codecs) or len(set(codecs)) != len(codecs):
            errors["codecs"] = f"Codecs must be distinct values of {', '.join(CODECS)}."
        if errors:
            raise ValidationError(errors)
        pending = self._pending_networks
        if (self.pk or pending) and self.tech_prefix and "\x00" not in self.tech_prefix:
            # A form editing the networks together with the trunk passes the submitted ones.
            if pending is not None:
                own = list(pending)
            else:
                own = list(self.networks.values_list("network", flat=True))
            clash = find_overlap(self.tenant_id, self.tech_prefix, own, exclude_trunk=self.pk)
            if clash:
                raise ValidationError({"tech_prefix": overlap_message(*clash)})


def defer_ingress_check():
    """From now until :func:`check_ingress_now`, PostgreSQL checks the overlap rule
    (customers/ingress_guard.py) on the result rather than after each statement."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET CONSTRAINTS {INGRESS_CONSTRAINT} DEFERRED")


def check_ingress_now():
    """Check the overlap rule on what this transaction wrote; IntegrityError on a clash."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET CONSTRAINTS {INGRESS_CONSTRAINT} IMMEDIATE")


@contextmanager
def ingress_checked_on_completion():
    """Write a trunk and its networks inside this block (in a transaction): the overlap rule
    is checked once, on the result, when the block ends — so a save that changes the tech
    prefix and replaces the networks together is not refused for the moment in between."""
    defer_ingress_check()
    yield
    check_ingress_now()


def lock_trunks(queryset, ids):
    """Lock the rows of trunks ``ids`` (within ``queryset``) until the transaction ends, in id
    order (two lockers never wait on each other crosswise).

    ``FOR NO KEY UPDATE``: writers that lock a trunk queue behind each other, while inserts
    that merely reference it (their foreign-key check takes ``KEY SHARE``) are not blocked,
    so a locker waiting on a unique index for such an insert cannot deadlock with it.
    SQLite has no row locks (its IMMEDIATE transactions serialise all writers)."""
    return list(
        queryset.select_for_update(no_key=True)
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def find_overlap(tenant_id, tech_prefix, networks, exclude_trunk=None):
    """First (trunk, other network, our network) that makes ingress ambiguous, or None."""
    if not networks:
        return None
    others = TrunkNetwork.objects.filter(
        trunk__tenant_id=tenant_id, trunk__tech_prefix=tech_prefix
    ).select_related("trunk__customer")
    if exclude_trunk is not None:
        others = others.exclude(trunk_id=exclude_trunk)
    for other in others:
        for ours in networks:
            if networks_overlap(ours, other.network):
                return other.trunk, other.network, ours
    return None


def overlaps_by_network(tenant_id, tech_prefix, networks, exclude_trunk=None):
    """{our network: overlap message} for each of ``networks`` that clashes (one query)."""
    if not networks:
        return {}
    others = TrunkNetwork.objects.filter(
        trunk__tenant_id=tenant_id, trunk__tech_prefix=tech_prefix
    ).select_related("trunk__customer")
    if exclude_trunk is not None:
        others = others.exclude(trunk_id=exclude_trunk)
    found = {}
    others = list(others)
    for ours in networks:
        for other in others:
            if networks_overlap(ours, other.network):
                found[ours] = overlap_message(other.trunk, other.network, ours)
                break
    return found


def overlap_message(trunk, other_network, ours):
    return (
        f"{ours} overlaps {other_network} of trunk “{trunk.name}” (customer "
        f"“{trunk.customer.name}”), which has the same tech prefix {trunk.tech_prefix}: "
        "ingress would be ambiguous. Use another tech prefix or network."
    )


class TrunkNumberList(models.Model):
    """A number list checked on a trunk's calls (SPEC §9 step 5b). A list in use cannot be
    deleted (PROTECT): dropping a deny list must be a decision, not a side effect."""

    tenant_path = "trunk__tenant"

    trunk = models.ForeignKey(Trunk, on_delete=models.CASCADE, related_name="+")
    number_list = models.ForeignKey(
        "routing.NumberList", on_delete=models.PROTECT, related_name="trunk_links"
    )

    class Meta:
        ordering = ["trunk", "number_list"]
        constraints = [
            models.UniqueConstraint(
                fields=["trunk", "number_list"],
                name="trunknumberlist_unique",
                violation_error_message="This list is already checked on the trunk.",
            )
        ]

    def __str__(self):
        return f"{self.trunk} · {self.number_list}"

    def clean(self):
        errors = check_same_tenant(
            self.trunk.tenant_id if self.trunk_id else None,
            number_list=self.number_list if self.number_list_id else None,
        )
        if errors:
            raise ValidationError(errors)


class TrunkNetwork(models.Model):
    """One authorized source network of a trunk, stored canonical (``198.51.100.0/24``)."""

    tenant_path = "trunk__tenant"

    trunk = models.ForeignKey(Trunk, on_delete=models.CASCADE, related_name="networks")
    network = models.CharField(max_length=64, verbose_name="authorized IP or range")

    history = HistoricalRecords()

    class Meta:
        ordering = ["trunk", "network"]
        constraints = [
            models.UniqueConstraint(
                fields=["trunk", "network"],
                name="trunknetwork_unique_per_trunk",
                violation_error_message="This network is already listed for the trunk.",
            )
        ]

    def __str__(self):
        return self.network

    def clean(self):
        self.network = normalise_network(self.network)
        if not self.trunk_id:
            return
        if (
            TrunkNetwork.objects.filter(trunk_id=self.trunk_id, network=self.network)
            .exclude(pk=self.pk)
            .exists()
        ):
            raise ValidationError({"network": "This network is already listed for the trunk."})
        trunk = self.trunk
        clash = find_overlap(trunk.tenant_id, trunk.tech_prefix, [self.network], trunk.pk)
        if clash:
            raise ValidationError({"network": overlap_message(*clash)})


_TOO_BIG = "Enter an amount below 10,000,000,000 (at most 10 digits before the point)."
AMOUNT_ERRORS = {
    "max_digits": _TOO_BIG,
    "max_whole_digits": _TOO_BIG,
    "max_decimal_places": "Use at most 2 decimal places (cents).",
}


class BalanceEntryHistory(models.Model):
    """Base of BalanceEntry's history records: one line saying what the entry did."""

    class Meta:
        abstract = True

    @property
    def summary(self):
        text = f"{self.get_kind_display()} {'+' if self.amount > 0 else ''}{money(self.amount)}"
        if self.reference:
            text += f" (ref. {self.reference})"
        return text


class BalanceEntry(models.Model):
    """One movement of a customer's balance: a payment received or an adjustment.

    The only way the balance moves (SPEC §3). :meth:`save` adds ``amount`` to the customer's
    balance with ``UPDATE … SET balance = balance + amount`` in the same transaction as the
    INSERT, so concurrent entries never lose an update, and records the balance it left in
    ``balance_after`` (the row lock of that UPDATE orders the entries of one customer, so
    the running balance is exact). Entries are never edited or deleted: a mistake is
    corrected by another adjustment.
    """

    tenant_path = "customer__tenant"

    PAYMENT, ADJUSTMENT = "payment", "adjustment"
    KIND_CHOICES = [(PAYMENT, "Payment"), (ADJUSTMENT, "Adjustment")]

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="balance_entries")
    kind = models.CharField(
        max_length=10,
        choices=KIND_CHOICES,
        default=PAYMENT,
        help_text="Payment: money received (more than 0). Adjustment: a correction (+ or −).",
    )
    amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        help_text="In the tenant's currency, at most 2 decimal places.",
        error_messages=AMOUNT_ERRORS,
    )
    reference = models.CharField(
        max_length=100,
        blank=True,
        validators=[no_nul],
        help_text="E.g. the bank transfer id.",
    )
    note = models.CharField(
        max_length=500,
        blank=True,
        validators=[no_nul],
        help_text="Required for an adjustment: say why.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="recorded by",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    #: The customer's balance right after this entry (set by save(), in the same transaction).
    balance_after = models.DecimalField(max_digits=14, decimal_places=4, null=True, editable=False)

    history = HistoricalRecords(bases=[BalanceEntryHistory])

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "balance entries"
        indexes = [
            # The Balance tab: a customer's entries newest first, older pages by id.
            models.Index(fields=["customer", "-id"], name="balanceentry_customer_newest"),
            models.Index(fields=["created_at"], name="balanceentry_created_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["payment", "adjustment"]), name="balanceentry_kind_valid"
            ),
            models.CheckConstraint(
                condition=~Q(kind="payment") | Q(amount__gt=0),
                name="balanceentry_payment_positive",
            ),
            models.CheckConstraint(
                condition=~Q(kind="adjustment") | (~Q(amount=0) & ~Q(note="")),
                name="balanceentry_adjustment_nonzero_with_note",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {money(self.amount)}" if self.amount is not None else "—"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError("A balance entry is never edited: record an adjustment.")
        try:
            with transaction.atomic():
                # The UPDATE first: its row lock orders this customer's entries, so the
                # balance read back is exactly the one this entry leaves.
                moved = Customer.objects.filter(pk=self.customer_id).update(
                    balance=F("balance") + self.amount
                )
                if not moved:
                    raise ValidationError({"customer": "This customer no longer exists."})
                self.balance_after = (
                    Customer.objects.filter(pk=self.customer_id)
                    .values_list("balance", flat=True)
                    .get()
                )
                super().save(*args, **kwargs)
        except DataError as exc:
            # The balance left its column's range (|balance| < 10^10): PostgreSQL refuses
            # the UPDATE with a numeric overflow. clean() says so before, unless another
            # entry landed in between. (SQLite, for development only, does not check.)
            if "numeric field overflow" not in str(exc):
                raise
            raise ValidationError({"amount": self.overflow_message()}) from exc
        # The instance the caller holds shows the new balance too.
        if "customer" in self._state.fields_cache:
            self.customer.balance = self.balance_after

    def get_absolute_url(self):
        url = url_or_blank("customers:customer_detail", self.customer_id)
        return f"{url}?tab=balance" if url else ""

    def clean(self):
        errors = {}
        amount = self.amount
        if amount is not None and amount.is_finite():
            if self.kind == self.PAYMENT and amount <= 0:
                errors["amount"] = (
                    "A payment is money received: enter an amount above 0 "
                    "(record a correction as an adjustment)."
                )
            elif self.kind == self.ADJUSTMENT and amount == 0:
                errors["amount"] = "An adjustment of 0 changes nothing: enter + or − an amount."
            elif self.customer_id and abs(self.customer.balance + amount) >= MONEY_LIMIT:
                errors["amount"] = self.overflow_message()
        if self.kind == self.ADJUSTMENT and not (self.note or "").strip():
            errors["note"] = "Say why: an adjustment needs a note."
        if errors:
            raise ValidationError(errors)

    def delete(self, *args, **kwargs):
        raise ValidationError("A balance entry is never deleted: record an adjustment.")

    def overflow_message(self):
        return (
            "This would take the balance beyond "
            f"±{money(MONEY_LIMIT - Decimal('0.01'))}; nothing was recorded."
        )

    @property
    def balance_before(self):
        return None if self.balance_after is None else self.balance_after - self.amount
