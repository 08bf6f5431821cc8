"""``{{ code|or_catch_all }}``: a destination code as pages show it, the empty code read as
``routing.dialplan.CATCH_ALL`` (the one spelling of the catch-all)."""

from django import template

from routing.dialplan import CATCH_ALL

register = template.Library()


@register.filter
def or_catch_all(code):
    return code or CATCH_ALL
