"""What the routing commands share: tenants named by slug on the command line."""

from django.core.management.base import CommandError

from vmgate.models import Tenant


def tenants_by_slug(slugs):
    """``{slug: pk}`` of the tenants named, in the order given (every tenant when ``slugs`` is
    empty or None); an unknown slug is a usage error (exit status 2)."""
    if not slugs:
        return dict(Tenant.objects.order_by("pk").values_list("slug", "pk"))
    found = dict(Tenant.objects.filter(slug__in=slugs).values_list("slug", "pk"))
    missing = sorted(set(slugs) - set(found))
    if missing:
        raise CommandError(f"No tenant with slug {', '.join(missing)}.", returncode=2)
    return {slug: found[slug] for slug in slugs}
