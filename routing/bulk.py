"""Bulk columns of the routing app's kinds (SPEC §8): what the CSV export of each list
writes, under the API's field names, references by natural key. The import of a kind reads
the same columns (vmgate/export.py)."""

import json

from vmgate.export import Column, field

#: How a catch-all rule's code is written (SPEC §8: ``*`` or empty is the catch-all).
CATCH_ALL_CODE = "*"


def rule_code(rule):
    """A rule's natural key part: its code, ``*`` for the catch-all; empty for no rule."""
    if rule is None:
        return None
    return rule.code or CATCH_ALL_CODE


NETWORK = (field("name"),)

# Slots as the API writes them (a JSON list of {position, enabled, label}): lossless.
CLIENT = (
    field("name"),
    field("node_id"),
    field("network", "network.name"),
    field("status"),
    field("active_calls"),
    field("sip_uri"),
    Column(
        "slots",
        lambda client: json.dumps(
            [
                {"position": s.position, "enabled": s.enabled, "label": s.label}
                for s in sorted(client.slots.all(), key=lambda s: s.position)
            ],
            separators=(",", ":"),
        ),
    ),
)

# A rule is its code plus its scope: the scope trunk's name, and its customer's (trunk
# names repeat across customers); both empty for a rule of all trunks.
RULE = (
    Column("code", rule_code),
    field("label"),
    field("assignment"),
    field("trunk", "trunk.name"),
    field("customer", "trunk.customer.name"),
    field("is_active"),
)

# Not an import kind (SPEC §8); the rule it expects by code and id (a code alone can name
# a scoped and an unscoped rule). last_result (the whole decision) is left out.
ROUTING_CHECK = (
    field("name"),
    field("customer", "trunk.customer.name"),
    field("trunk", "trunk.name"),
    field("source_ip"),
    field("called_number"),
    field("at"),
    field("expected_outcome"),
    field("expected_reason"),
    Column("expected_rule", lambda check: rule_code(check.expected_rule)),
    field("expected_rule_id"),
    field("last_passed"),
    field("last_run_at"),
)


def slot_ref(slot):
    """A SIM slot's natural key: its client's node id and its position, ``gw-a-01/2``."""
    return f"{slot.client.node_id}/{slot.position}"


# A target names its rule like a dialpeer does (code, with the scope's trunk and customer,
# and the id for when a code and scope name more than one rule) and exactly one of a network
# (by name), a VMGateClient (by node id) or a SIM slot (node id/position).
TARGET = (
    Column("rule", lambda target: rule_code(target.rule)),
    field("trunk", "rule.trunk.name"),
    field("customer", "rule.trunk.customer.name"),
    field("rule_id"),
    field("network", "network.name"),
    field("client", "client.node_id"),
    Column("sim_slot", lambda target: slot_ref(target.sim_slot) if target.sim_slot_id else None),
    field("priority"),
    field("weight"),
    field("is_active"),
)

# Routing policy (SPEC §9). A list page exports its own rows; a number list's page exports
# its entries with the list's name, kind and applies_to on each line.
TRANSLATION_SET = (field("name"),)
NUMBER_LIST = (field("name"), field("kind"), field("applies_to"))
NUMBER_LIST_ENTRY = (
    field("number_list", "number_list.name"),
    field("kind", "number_list.kind"),
    field("applies_to", "number_list.applies_to"),
    field("value"),
    field("match"),
    field("note"),
)
SCHEDULE = (field("name"), field("timezone"))

# A translation set's rules and a schedule's windows, one per line with their parent's name
# (the translation_rules and schedule_windows imports' columns): their lists export these
# beside their own rows, so an export imports back.
TRANSLATION_RULE = (
    field("translation_set", "translation_set.name"),
    field("position"),
    field("match"),
    field("replace"),
    field("stop"),
)


def weekdays_text(days):
    """A window's weekdays as the import reads them: ``1 2 3 4 5``."""
    return " ".join(str(d) for d in days or ())


def clock_text(value):
    """A window's time as the import reads it: ``09:00`` (``09:00:30`` with seconds)."""
    if value is None:
        return ""
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


SCHEDULE_WINDOW = (
    field("schedule", "schedule.name"),
    field("timezone", "schedule.timezone"),
    Column("weekdays", lambda w: weekdays_text(w.weekdays)),
    Column("start", lambda w: clock_text(w.start)),
    Column("end", lambda w: clock_text(w.end)),
)
