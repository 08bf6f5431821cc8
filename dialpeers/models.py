"""Dialpeers: the links from a Customer's ingress trunk to the routing rules it may use."""

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import NoReverseMatch, reverse
from simple_history.models import HistoricalRecords

from routing.dialplan import CATCH_ALL
from routing.models import code_display
from vmgate.models import TenantOwned
from vmgate.tenancy import check_same_tenant
from vmgate.validators import no_nul


class Dialpeer(TenantOwned):
    """One (origin customer, SIP trunk, routing rule) link; only active ones route calls.

    Invariants: the trunk belongs to the customer; a trunk-scoped rule is only linked on its
    trunk; the combination is unique; one trunk never has two active dialpeers whose rules
    share a code (the longest-prefix match would be ambiguous).
    """

    name = models.CharField(max_length=200, validators=[no_nul], verbose_name="display name")
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="dialpeers",
        verbose_name="origin customer",
    )
    trunk = models.ForeignKey(
        "customers.Trunk",
        on_delete=models.PROTECT,
        related_name="dialpeers",
        verbose_name="SIP trunk (ingress)",
    )
    rule = models.ForeignKey(
        "routing.RoutingRule",
        on_delete=models.PROTECT,
        related_name="dialpeers",
        verbose_name="routing rule",
    )
    is_active = models.BooleanField(default=True, verbose_name="active")
    #: The rule's code, copied by database triggers (dialpeers/rule_code.py) so that the
    #: partial unique index below can hold "one active dialpeer per code on a trunk".
    code = models.CharField(max_length=15, null=True, editable=False)

    # The copy follows the rule; the rule's own history records its code.
    history = HistoricalRecords(excluded_fields=["code"])

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "rule", "trunk"],
                name="dialpeer_unique_customer_rule_trunk",
                violation_error_message=(
                    "A dialpeer for this origin customer, routing rule and trunk already exists."
                ),
            ),
            # SPEC §3, held by the database on every write path (clean() names the clash
            # first; a concurrent save that slips past it fails here).
            models.UniqueConstraint(
                fields=["trunk", "code"],
                condition=models.Q(is_active=True),
                name="dialpeer_one_active_code_per_trunk",
            ),
        ]
        indexes = [
            models.Index(fields=["trunk", "is_active"], name="dialpeer_trunk_active"),
            # The list's default order: a page at any offset is an index scan (100k rows).
            models.Index(fields=["tenant", "name", "id"], name="dialpeer_tenant_name"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # The triggers own ``code``; writing the right value here too means SQLite's index
        # (whose triggers correct the row only after the write) never judges a stale code
        # when one save both changes the rule and activates the dialpeer.
        update_fields = kwargs.get("update_fields")
        if self.rule_id and (update_fields is None or "rule" in update_fields):
            self.code = self.rule.code
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "code"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        try:
            return reverse("dialpeers:dialpeer_detail", args=[self.pk])
        except NoReverseMatch:
            return ""

    @staticmethod
    def same_code_on_trunk(trunk_id, code, exclude_rule=None, exclude_pk=None):
        """The active dialpeer on ``trunk_id`` whose rule has ``code``, or None."""
        qs = Dialpeer.objects.filter(trunk_id=trunk_id, is_active=True, rule__code=code)
        if exclude_rule is not None:
            qs = qs.exclude(rule_id=exclude_rule)
        if exclude_pk is not None:
            qs = qs.exclude(pk=exclude_pk)
        return qs.order_by("id").first()

    def duplicate(self):
        """The existing dialpeer with the same customer, rule and trunk, if any."""
        if not (self.customer_id and self.rule_id and self.trunk_id):
            return None
        qs = Dialpeer.objects.filter(
            customer_id=self.customer_id, rule_id=self.rule_id, trunk_id=self.trunk_id
        )
        return qs.exclude(pk=self.pk).first()

    def validate_constraints(self, exclude=None):
        # clean() checks the (customer, rule, trunk) combination itself and names the existing
        # dialpeer; the constraint's anonymous message would only repeat it, or, when another
        # operator commits between the two checks, replace it. The constraint stays the
        # database backstop (an IntegrityError the views turn into the named error).
        # The same goes for the one-active-code index: clean() names the dialpeer that
        # already routes the code, and ``code`` is the triggers' copy, not form input.
        exclude = set(exclude or ()) | {"customer", "code"}
        super().validate_constraints(exclude=exclude)

    def clean(self):
        errors = check_same_tenant(
            self.tenant_id,
            customer=self.customer if self.customer_id else None,
            trunk=self.trunk if self.trunk_id else None,
            rule=self.rule if self.rule_id else None,
        )
        if errors:
            raise ValidationError(errors)
        if not (self.customer_id and self.trunk_id and self.rule_id):
            return
        if self.trunk.customer_id != self.customer_id:
            raise ValidationError(
                {"trunk": f"Trunk “{self.trunk.name}” belongs to another customer."}
            )
        if self.rule.trunk_id and self.rule.trunk_id != self.trunk_id:
            raise ValidationError(
                {
                    "rule": f"Rule {code_display(self.rule.code, self.rule.label)} is scoped "
                    f"to trunk “{self.rule.trunk.name}”; "
                    "it can only be linked on that trunk."
                }
            )
        dup = self.duplicate()
        if dup is not None:
            raise ValidationError(
                f"Dialpeer “{dup.name}” already links this origin customer, routing rule and "
                "trunk.",
                code="duplicate",
                params={"dialpeer": dup},
            )
        if self.is_active:
            other = Dialpeer.same_code_on_trunk(self.trunk_id, self.rule.code, exclude_pk=self.pk)
            if other is not None:
                raise ValidationError(
                    {
                        "rule": f"Dialpeer “{other.name}” already routes code "
                        f"{self.rule.code or CATCH_ALL} on trunk “{self.trunk.name}”."
                    }
                )
