"""``{% trunk_routing_table trunk %}``: the trunk detail's Routing table (one query).

A template tag, so the customers app's trunk page shows it without importing dialpeers
(imports flow vmgate ← customers ← routing ← dialpeers).
"""

from django import template

from dialpeers.routing_table import routing_table

register = template.Library()


@register.inclusion_tag("dialpeers/_trunk_routing_table.html", takes_context=True)
def trunk_routing_table(context, trunk):
    return {
        "routing_table": routing_table(trunk),
        "object": trunk,
        "can_write": context.get("can_write", False),
    }
