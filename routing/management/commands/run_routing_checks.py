"""``manage.py run_routing_checks [--tenant SLUG]``: re-run saved routing checks.

Prints one line per check and exits 1 when any check fails, so a deployment pipeline can
gate on a dialplan change. An unknown tenant slug exits 2.
"""

from django.core.management.base import BaseCommand, CommandError

from routing.checks.running import run_checks
from routing.models import RoutingCheck
from vmgate.models import Tenant


class Command(BaseCommand):
    help = "Run the saved routing checks (all tenants, or one) and fail if any check fails."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", metavar="SLUG", help="only this tenant's checks")

    def handle(self, *args, tenant=None, **options):
        qs = RoutingCheck.objects.all()
        if tenant is not None:
            found = Tenant.objects.filter(slug=tenant).first()
            if found is None:
                raise CommandError(f"No tenant with slug “{tenant}”.", returncode=2)
            qs = qs.filter(tenant=found)
        results = run_checks(qs)
        rows = [("RESULT", "TENANT", "CHECK", "CALLED NUMBER", "EXPECTED", "GOT")]
        for check in results:
            got = check.last_result["summary"]
            if check.last_result["rule"]:
                got += f" · {check.last_result['rule']['name']}"
            expected = check.expected_outcome
            if check.expected_reason:
                expected += f" · {check.expected_reason}"
            if check.expected_rule_id:
                expected += f" · {check.expected_rule}"
            rows.append(
                (
                    "PASS" if check.last_passed else "FAIL",
                    check.tenant.slug,
                    check.name,
                    check.called_number,
                    expected,
                    got,
                )
            )
        widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
        for row in rows:
            self.stdout.write(
                "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
            )
        failed = [c for c in results if not c.last_passed]
        for check in failed:
            for diff in check.last_result["differences"]:
                self.stdout.write(f"FAIL {check.tenant.slug}/{check.name}: {diff}")
        self.stdout.write(f"{len(results)} check(s), {len(failed)} failed.")
        if failed:
            raise SystemExit(1)
