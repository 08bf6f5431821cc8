"""Links to objects' pages, for model instances and the routing engine's snapshots alike."""

from django.urls import NoReverseMatch, reverse


def url_or_blank(name, pk):
    """The URL of view ``name`` for ``pk``, or "" when that view is not installed."""
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return ""
