"""View ``vmgate_edge_stamp``: one htable row whose value changes whenever the authorized
networks (``vmgate_edge_address``) change. The SIP edge reads it every 2 s and reloads the
networks only when it differs: reloading 11,000 networks every 2 s cost the edge ~45 ms of
CPU a second and its p99 under load (bench/README.md, "SIP edge")."""

from django.db import migrations

# A sum of per-row hashes over the trunk networks (order-free, moves with any insert, delete
# or edit): one scan of customers_trunknetwork, a few ms for 11,000 rows. Read through a
# plain SQL function, like the other edge views (its body is not a tracked dependency).
PG = """
CREATE FUNCTION vmgate_edge_stamp_value() RETURNS varchar LANGUAGE sql STABLE AS $$
    SELECT count(*) || ':' || coalesce(
        sum(hashtext(network)::bigint * 3 + trunk_id::bigint * 7 + id::bigint), 0)
    FROM customers_trunknetwork
$$;
CREATE VIEW vmgate_edge_stamp AS
    SELECT 'addresses'::varchar AS key_name, 0 AS key_type, 0 AS value_type,
           vmgate_edge_stamp_value() AS key_value, 0 AS expires;
"""

# No hash function in SQLite: a stamp that differs on every read, so the edge reloads every
# time there (a development database is small).
SQLITE = """
CREATE VIEW vmgate_edge_stamp AS
    SELECT 'addresses' AS key_name, 0 AS key_type, 0 AS value_type,
           CAST(random() AS TEXT) AS key_value, 0 AS expires
"""


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor in ("postgresql", "sqlite"):
        schema_editor.execute(PG if vendor == "postgresql" else SQLITE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor in ("postgresql", "sqlite"):
        schema_editor.execute("DROP VIEW IF EXISTS vmgate_edge_stamp", params=None)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS vmgate_edge_stamp_value()", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0006_trunknetwork_ingress_guard"),
    ]

    operations = [migrations.RunPython(create, drop)]
