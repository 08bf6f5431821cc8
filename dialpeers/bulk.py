"""Bulk columns of dialpeers (SPEC §8): what the CSV export of the list writes, under the
API's field names, references by natural key; the import reads the same columns
(vmgate/export.py). The rule is its code, resolved among the rules usable on the trunk,
with ``rule_id`` beside it for when a code names more than one."""

from routing.bulk import rule_code
from vmgate.export import Column, field

DIALPEER = (
    field("name"),
    field("customer", "customer.name"),
    field("trunk", "trunk.name"),
    Column("rule", lambda dp: rule_code(dp.rule)),
    field("rule_id"),
    field("is_active"),
)
