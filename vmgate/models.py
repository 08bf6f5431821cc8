"""Tenancy: the operator (Tenant) and who may act for it (Membership)."""

from datetime import timedelta

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from simple_history.models import HistoricalRecords

from vmgate.validators import no_nul


class Tenant(models.Model):
    """An operator of the platform. Every domain row belongs to exactly one tenant."""

    name = models.CharField(max_length=200, unique=True, validators=[no_nul])
    slug = models.SlugField(max_length=50, unique=True)
    currency = models.CharField(
        max_length=3,
        default="USD",
        validators=[RegexValidator(r"^[A-Z]{3}\Z", "Use an ISO 4217 code such as USD.")],
        help_text="Currency of customer balances (ISO 4217).",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    """Links a login to the one tenant it acts for, as operator (read/write) or viewer."""

    OPERATOR = "operator"
    VIEWER = "viewer"
    ROLE_CHOICES = [(OPERATOR, "Operator"), (VIEWER, "Viewer")]

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=ROLE_CHOICES, default=OPERATOR)

    class Meta:
        ordering = ["tenant", "user"]

    def __str__(self):
        return f"{self.user} @ {self.tenant} ({self.role})"

    @property
    def can_write(self):
        return self.role == self.OPERATOR


INVALID_CHOICE = "Select a valid choice. That choice is not one of the available choices."


class TenantOwned(models.Model):
    """Abstract base of every row that carries its tenant directly."""

    tenant_path = "tenant"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True


class APIToken(models.Model):
    """A named API key of one user. Only a SHA-256 hash of the key is stored.

    The key is shown once, when the token is created. What a token may do follows its
    user's membership at request time: a viewer's token reads, an operator's token writes.
    """

    KEY_PREFIX_LENGTH = 8

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, validators=[no_nul])
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(
        max_length=KEY_PREFIX_LENGTH, editable=False, help_text="First characters of the key."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["user", "name", "id"]
        verbose_name = "API token"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"],
                name="apitoken_name_unique_per_user",
                violation_error_message="You already have a token with this name.",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.key_prefix}…)"

    @staticmethod
    def hash_key(key):
        import hashlib

        return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()

    @classmethod
    def issue(cls, user, name):
        """Create a token for ``user``; returns ``(token, key)``. The key is not stored."""
        import secrets

        key = secrets.token_urlsafe(30)
        token = cls(user=user, name=name, key_hash=cls.hash_key(key), key_prefix=key[:8])
        token.full_clean()
        token.save()
        return token, key


class UserPreference(models.Model):
    """One user's portal preferences; today the list pages' rows per page (one value for
    every list, remembered across logins; see vmgate/paging.py)."""

    PER_PAGE_CHOICES = [(n, str(n)) for n in (25, 50, 100, 250)]

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="preference",
    )
    per_page = models.PositiveSmallIntegerField(choices=PER_PAGE_CHOICES, default=25)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(per_page__in=[25, 50, 100, 250]),
                name="userpreference_per_page_choice",
            )
        ]

    def __str__(self):
        return f"Preferences of {self.user}"

    @classmethod
    def remember(cls, user, **values):
        """Store ``values`` for ``user`` in one statement (an upsert: two tabs saving at
        once cannot collide)."""
        cls.objects.bulk_create(
            [cls(user=user, **values)],
            update_conflicts=True,
            unique_fields=["user"],
            update_fields=list(values),
        )


class ImportUpload(TenantOwned):
    """A file previewed on the import page, kept until it is applied or cancelled (SPEC §8).
    Apply re-stages it and refuses when the preview no longer holds (``fingerprint``) or
    when it is older than :data:`IMPORT_UPLOAD_TTL`."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=20)
    mode = models.CharField(max_length=10)
    rate_plan = models.ForeignKey(
        "customers.RatePlan", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    filename = models.CharField(max_length=200)
    content = models.BinaryField()
    fingerprint = models.CharField(max_length=64)
    #: The preview as ``ImportResult.as_dict()`` (what the preview page shows).
    preview = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at", "-id"]


#: How long a preview stays appliable.
IMPORT_UPLOAD_TTL = timedelta(hours=1)


class ImportRun(TenantOwned):
    """One applied import: the single change-log entry it writes ("Imported rates.csv:
    1,234 created, 56 updated"). The rows it wrote carry ``history_change_reason`` =
    ``reason`` in their own history (their History tabs show them; the tenant change log
    shows this entry instead of each row)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=20)
    filename = models.CharField(max_length=200)
    mode = models.CharField(max_length=10)
    summary = models.CharField(max_length=300)
    counts = models.JSONField(default=dict)
    reason = models.CharField(max_length=100, unique=True)

    history = HistoricalRecords()
    is_import_entry = True  # vmgate.imports.tag_history leaves its own record untagged

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.summary
