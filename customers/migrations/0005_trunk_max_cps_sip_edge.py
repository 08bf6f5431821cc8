"""Trunk.max_cps (the SIP edge's per-trunk calls-per-second limit), and the read-only views
the SIP edge (deploy/kamailio/kamailio.cfg) loads from the database every few seconds:

* ``vmgate_edge_address``: every trunk network as a row of Kamailio's ``permissions``
  address table (group = the trunk's tenant id, address, prefix length, port 0 = any), so
  the edge tells an authorized source from a stranger without asking the app per packet.
  Every trunk whatever its status: SPEC §5 step 0 is "no trunk's networks contain the IP".
* ``vmgate_edge_version``: the one row of Kamailio's table-version check for that table.
* ``vmgate_edge_trunk_cps``: trunks with a max_cps, as rows of an ``htable`` (key = trunk id).

On PostgreSQL each view reads through a plain SQL function, whose body PostgreSQL does not
track as a dependency: a later migration may still change the type of a column they read
(``ALTER COLUMN ... TYPE`` refuses columns a view uses). SQLite checks views only when they
are read. The SIP tests read them through Kamailio, so a column renamed under them fails there.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import migrations, models

PG_VIEWS = """
CREATE FUNCTION vmgate_edge_address_rows()
RETURNS TABLE (id integer, grp integer, ip_addr varchar, mask integer, port integer,
               tag varchar)
LANGUAGE sql STABLE AS $$
    SELECT tn.id::integer, t.tenant_id::integer, split_part(tn.network, '/', 1)::varchar,
           split_part(tn.network, '/', 2)::integer, 0, NULL::varchar
    FROM customers_trunknetwork tn JOIN customers_trunk t ON t.id = tn.trunk_id
$$;
CREATE VIEW vmgate_edge_address AS SELECT * FROM vmgate_edge_address_rows();
CREATE VIEW vmgate_edge_version AS
    SELECT 'vmgate_edge_address'::varchar AS table_name, 6 AS table_version;
CREATE FUNCTION vmgate_edge_trunk_cps_rows()
RETURNS TABLE (id integer, key_name varchar, key_type integer, value_type integer,
               key_value varchar, expires integer)
LANGUAGE sql STABLE AS $$
    SELECT t.id::integer, t.id::varchar, 0, 1, t.max_cps::varchar, 0
    FROM customers_trunk t WHERE t.max_cps IS NOT NULL
$$;
CREATE VIEW vmgate_edge_trunk_cps AS SELECT * FROM vmgate_edge_trunk_cps_rows();
"""

PG_DROP = """
DROP VIEW IF EXISTS vmgate_edge_trunk_cps;
DROP FUNCTION IF EXISTS vmgate_edge_trunk_cps_rows();
DROP VIEW IF EXISTS vmgate_edge_version;
DROP VIEW IF EXISTS vmgate_edge_address;
DROP FUNCTION IF EXISTS vmgate_edge_address_rows();
"""

# Kamailio's db_sqlite types a view's column by its declared type: tenant_id is "bigint",
# which the permissions module refuses as a group ("invalid record"); an expression
# (CAST ... AS INTEGER) comes through as a plain integer.
SQLITE_VIEWS = [
    """CREATE VIEW vmgate_edge_address AS
    SELECT tn.id AS id, CAST(t.tenant_id AS INTEGER) AS grp,
           substr(tn.network, 1, instr(tn.network, '/') - 1) AS ip_addr,
           CAST(substr(tn.network, instr(tn.network, '/') + 1) AS INTEGER) AS mask,
           0 AS port, NULL AS tag
    FROM customers_trunknetwork tn JOIN customers_trunk t ON t.id = tn.trunk_id""",
    """CREATE VIEW vmgate_edge_version AS
    SELECT 'vmgate_edge_address' AS table_name, 6 AS table_version""",
    """CREATE VIEW vmgate_edge_trunk_cps AS
    SELECT t.id AS id, CAST(t.id AS TEXT) AS key_name, 0 AS key_type, 1 AS value_type,
           CAST(t.max_cps AS TEXT) AS key_value, 0 AS expires
    FROM customers_trunk t WHERE t.max_cps IS NOT NULL""",
]

SQLITE_DROP = [
    "DROP VIEW IF EXISTS vmgate_edge_trunk_cps",
    "DROP VIEW IF EXISTS vmgate_edge_version",
    "DROP VIEW IF EXISTS vmgate_edge_address",
]

# SQLite's schema editor adds a column with a CHECK by rebuilding customers_trunk, which
# would drop the triggers kept on it (trunk counts, the change log): a plain ADD COLUMN with
# the same CHECK does the same job and keeps them.
SQLITE_ADD = (
    'ALTER TABLE "customers_trunk" ADD COLUMN "max_cps" integer unsigned NULL '
    'CHECK ("max_cps" >= 0) CONSTRAINT "trunk_max_cps_gte_1" '
    'CHECK ("max_cps" IS NULL OR "max_cps" >= 1)'
)


def max_cps_field():
    return models.PositiveIntegerField(
        blank=True,
        null=True,
        validators=[MinValueValidator(1), MaxValueValidator(1_000_000)],
        verbose_name="max calls per second",
        help_text="New calls per second the SIP edge accepts from this trunk; above it "
        "503 with Retry-After. Empty: no limit.",
    )


MAX_CPS_CHECK = models.CheckConstraint(
    condition=models.Q(max_cps__isnull=True) | models.Q(max_cps__gte=1),
    name="trunk_max_cps_gte_1",
)


def add_max_cps(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_ADD, params=None)
        return
    model = apps.get_model("customers", "Trunk")
    field = max_cps_field()
    field.set_attributes_from_name("max_cps")
    field.model = model
    schema_editor.add_field(model, field)


def drop_max_cps(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute('ALTER TABLE "customers_trunk" DROP COLUMN "max_cps"', params=None)
        return
    model = apps.get_model("customers", "Trunk")
    field = max_cps_field()
    field.set_attributes_from_name("max_cps")
    field.model = model
    schema_editor.remove_field(model, field)


def add_check(apps, schema_editor):
    # SQLite: the CHECK came with the column (SQLITE_ADD).
    if schema_editor.connection.vendor != "sqlite":
        schema_editor.add_constraint(apps.get_model("customers", "Trunk"), MAX_CPS_CHECK)


def drop_check(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        schema_editor.remove_constraint(apps.get_model("customers", "Trunk"), MAX_CPS_CHECK)


def create_views(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_VIEWS, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_VIEWS:
            schema_editor.execute(sql, params=None)


def drop_views(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DROP, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_DROP:
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0004_balance_entries"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(model_name="trunk", name="max_cps", field=max_cps_field()),
            ],
            database_operations=[migrations.RunPython(add_max_cps, drop_max_cps)],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddConstraint(model_name="trunk", constraint=MAX_CPS_CHECK),
            ],
            database_operations=[migrations.RunPython(add_check, drop_check)],
        ),
        migrations.AddField(
            model_name="historicaltrunk", name="max_cps", field=max_cps_field()
        ),
        migrations.RunPython(create_views, drop_views),
    ]
