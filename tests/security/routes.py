"""The URL configuration, walked: every route with its name, pattern and parameters.

Used by the isolation test (every route taking an object id) and the form fuzz test (every
add/edit form), so a new route is covered — or breaks a test — without anyone listing it.
"""

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name" (or "" when unnamed)
    pattern: str  # the joined route, e.g. "customers/<int:pk>/edit/"
    params: tuple  # converter parameter names, in order

    def path(self, **values):
        """The URL path with the given parameter values."""
        out = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), self.pattern)
        return "/" + out


def _as_route(pattern):
    """A path() pattern as is; a regex (DRF's router) as the same <name> form."""
    text = str(pattern)
    if text.startswith("^"):
        text = text.removeprefix("^").removesuffix("$")
        text = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", text)
    return text


def _walk(resolver, prefix="", namespace=""):
    for entry in resolver.url_patterns:
        route = prefix + _as_route(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from _walk(entry, route, full_ns)
        elif isinstance(entry, URLPattern):
            name = entry.name or ""
            full = f"{namespace}:{name}" if namespace and name else name
            yield Route(full, route, tuple(re.findall(r"<(?:\w+:)?(\w+)>", route)))


def all_routes():
    """Every route of the portal and the API (the admin's own site excluded: staff only,
    across tenants by design)."""
    routes = []
    for route in _walk(get_resolver()):
        if route.pattern.startswith("admin/") or not route.name:
            continue
        if "format" in route.params:
            # DRF's format-suffix variants (…\.json): the same views as their base route.
            continue
        routes.append(route)
    return routes
