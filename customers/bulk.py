"""Bulk columns of the customers app's kinds (SPEC §8): what the CSV export of each list
writes, under the API's field names, references by natural key. The import of a kind reads
the same columns (vmgate/export.py)."""

from vmgate.export import Column, field

CUSTOMER = (
    field("name"),
    field("country", "country.code"),
    field("email"),
    field("phone"),
    field("billing_type"),
    field("credit_limit"),
    field("credit_unlimited"),
    field("overdraft_allowed"),
    field("overdraft_limit"),
    field("status"),
)

# Authorized networks (and codecs) as one space-separated column (SPEC §8).
TRUNK = (
    field("customer", "customer.name"),
    field("name"),
    field("tech_prefix"),
    field("rate_plan", "rate_plan.name"),
    field("max_concurrent_calls"),
    field("max_cps"),
    field("codecs"),
    field("status"),
    Column("networks", lambda trunk: [n.network for n in trunk.networks.all()]),
    # routing policy (SPEC §9): by name; a trunk's number lists "; "-separated (a list's
    # name may hold spaces), in name order
    field("ingress_translation", "ingress_translation.name"),
    Column("number_lists", lambda trunk: list_names(trunk.number_lists.all())),
)


def list_names(number_lists):
    """Number lists as one cell: their names in order, ``; ``-separated."""
    return "; ".join(sorted(nl.name for nl in number_lists))

RATE_PLAN = (field("name"), field("currency"), field("status"))

# Rates go into one rate plan: the plan is the page's (and the import's --rate-plan).
RATE = (
    field("code"),
    field("description"),
    field("valid_since"),
    field("rate_per_min"),
    field("connection_fee"),
    field("connection_sec"),
    field("billing_block_sec"),
)
