"""``{% list_url page=2 %}``: the list's own address with some parameters replaced.

Sort headers, paging and per-page links are absolute (the list's path, then the query):
a relative ``?page=2`` resolves against whatever the address bar shows, which is how a
list once sent its operator to an options endpoint. Changing the sort or the page size
starts again at page 1; an empty value removes the parameter.
"""

from django import template
from django.utils.http import urlencode

from vmgate.paging import PAGE_FIELD, PER_PAGE_FIELD, SORT_FIELD

register = template.Library()


def list_url_for(request, **replace):
    query = request.GET.copy()
    if SORT_FIELD in replace or PER_PAGE_FIELD in replace:
        query.pop(PAGE_FIELD, None)
    for key, value in replace.items():
        query.pop(key, None)
        if value not in (None, ""):
            query[key] = str(value)
    pairs = [(k, v) for k, values in query.lists() for v in values if v != ""]
    return f"{request.path}?{urlencode(pairs)}" if pairs else request.path


@register.simple_tag(takes_context=True)
def list_url(context, **replace):
    request = context.get("request")
    if request is None:
        table = context.get("table")
        request = getattr(table, "request", None)
    return list_url_for(request, **replace)
