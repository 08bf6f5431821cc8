"""View ``vmgate_edge_stamp`` gains a second row, ``cps``, whose value changes whenever a
trunk's max_cps does (``vmgate_edge_trunk_cps``). The SIP edge reads both rows every 2 s
through one connection it keeps (sqlops) and reloads the networks or the max_cps table only
when its own stamp moved: until now it re-read the max_cps table through a new connection
on every poll (bench/README.md, "SIP edge")."""

from django.db import migrations

# The same kind of order-free sum of per-row hashes as the networks' stamp (0007).
PG = """
CREATE FUNCTION vmgate_edge_cps_stamp_value() RETURNS varchar LANGUAGE sql STABLE AS $$
    SELECT count(*) || ':' || coalesce(sum(id::bigint * 31 + max_cps::bigint), 0)
    FROM customers_trunk WHERE max_cps IS NOT NULL
$$;
CREATE OR REPLACE VIEW vmgate_edge_stamp AS
    SELECT 'addresses'::varchar AS key_name, 0 AS key_type, 0 AS value_type,
           vmgate_edge_stamp_value() AS key_value, 0 AS expires
    UNION ALL
    SELECT 'cps'::varchar, 0, 0, vmgate_edge_cps_stamp_value(), 0;
"""
PG_BACK = """
DROP VIEW vmgate_edge_stamp;
CREATE VIEW vmgate_edge_stamp AS
    SELECT 'addresses'::varchar AS key_name, 0 AS key_type, 0 AS value_type,
           vmgate_edge_stamp_value() AS key_value, 0 AS expires;
DROP FUNCTION vmgate_edge_cps_stamp_value();
"""

# SQLite: stamps that differ on every read (0007), so the edge reloads both every time.
SQLITE = [
    "DROP VIEW IF EXISTS vmgate_edge_stamp",
    """CREATE VIEW vmgate_edge_stamp AS
    SELECT 'addresses' AS key_name, 0 AS key_type, 0 AS value_type,
           CAST(random() AS TEXT) AS key_value, 0 AS expires
    UNION ALL SELECT 'cps', 0, 0, CAST(random() AS TEXT), 0""",
]
SQLITE_BACK = [
    "DROP VIEW IF EXISTS vmgate_edge_stamp",
    """CREATE VIEW vmgate_edge_stamp AS
    SELECT 'addresses' AS key_name, 0 AS key_type, 0 AS value_type,
           CAST(random() AS TEXT) AS key_value, 0 AS expires""",
]


def _run(schema_editor, pg, sqlite):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(pg, params=None)
    elif vendor == "sqlite":
        for statement in sqlite:
            schema_editor.execute(statement, params=None)


def create(apps, schema_editor):
    _run(schema_editor, PG, SQLITE)


def drop(apps, schema_editor):
    _run(schema_editor, PG_BACK, SQLITE_BACK)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0007_sip_edge_stamp"),
    ]

    operations = [migrations.RunPython(create, drop)]
