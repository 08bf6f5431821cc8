"""Unambiguous ingress: within a tenant, two trunks whose networks overlap never share a tech
prefix — held by PostgreSQL on every write path.

SPEC §3 ("two trunks whose networks overlap must not have the same tech prefix"). The forms,
the API and the admin check it in ``Trunk.clean()`` / ``TrunkNetwork.clean()`` and name the
other trunk; two writers validating at the same moment both passed that check (issue 13:
12 concurrent creates of ``192.0.2.181/32`` with prefix ``810`` stored 7 trunks). Now the
database refuses the second one:

- ``customers_trunknetwork`` carries two columns Django does not know, ``ingress_tenant_id``
  and ``ingress_tech_prefix``: copies of its trunk's, filled by a BEFORE trigger on every
  insert and on updates naming them, ``trunk_id`` or ``network`` (whatever a writer sends
  is replaced), and passed down by a trigger on ``customers_trunk`` when a trunk's tech
  prefix (or tenant) changes. The trigger reads the trunk ``FOR SHARE``, so a concurrent
  tech-prefix change and network insert never leave a stale copy.
- The exclusion constraint ``trunknetwork_ingress_unambiguous`` (``btree_gist``) refuses
  two rows of the same tenant and tech prefix whose networks overlap (``inet &&``) on
  different trunks. It is ``DEFERRABLE INITIALLY IMMEDIATE``: checked after each statement,
  except where a save writes a trunk and its networks together
  (:func:`customers.models.ingress_checked_on_completion`), so replacing the networks
  together with the prefix is judged on the result, not on the order of the writes.
- The same trigger takes a per-tenant transaction lock (``pg_advisory_xact_lock``) before
  any network row is written: network writers of one tenant queue, so the constraint's
  check never waits crosswise on two uncommitted transactions (no deadlock, which would
  otherwise be a 500), and the loser fails as soon as the winner commits.

The loser gets an IntegrityError; the form, the API and the admin validate again (now seeing
the winner's commit), so the refusal names the other trunk and its customer.

SQLite (the zero-setup default) has no address type to compare ranges: there the rule is
``clean()``'s alone, with its IMMEDIATE transactions serialising writers.

Loading rows with triggers off (``session_replication_role = replica``) leaves the copies
NULL (those rows are not guarded): run :data:`BACKFILL_SQL` afterwards.
"""

CONSTRAINT = "trunknetwork_ingress_unambiguous"

BACKFILL_SQL = (
    "UPDATE customers_trunknetwork n SET ingress_tenant_id = t.tenant_id, "
    "ingress_tech_prefix = t.tech_prefix FROM customers_trunk t WHERE t.id = n.trunk_id "
    "AND (n.ingress_tenant_id IS DISTINCT FROM t.tenant_id "
    "OR n.ingress_tech_prefix IS DISTINCT FROM t.tech_prefix)"
)

#: Networks that would break the rule (what the constraint could not be built over).
CLASHES_SQL = """
SELECT a.trunk_id, a.network, b.trunk_id, b.network, a.ingress_tech_prefix
  FROM customers_trunknetwork a
  JOIN customers_trunknetwork b
    ON b.ingress_tenant_id = a.ingress_tenant_id
   AND b.ingress_tech_prefix = a.ingress_tech_prefix
   AND b.trunk_id > a.trunk_id
   AND b.network::inet && a.network::inet
 ORDER BY a.trunk_id, b.trunk_id
 LIMIT 20
"""

INSTALL_SQL = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    "ALTER TABLE customers_trunknetwork ADD COLUMN IF NOT EXISTS ingress_tenant_id bigint, "
    "ADD COLUMN IF NOT EXISTS ingress_tech_prefix varchar(10)",
    """
CREATE OR REPLACE FUNCTION customers_trunknetwork_ingress_fill() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  SELECT tenant_id, tech_prefix INTO NEW.ingress_tenant_id, NEW.ingress_tech_prefix
    FROM customers_trunk WHERE id = NEW.trunk_id FOR SHARE;
  PERFORM pg_advisory_xact_lock(
    hashtextextended('customers_trunknetwork_ingress', NEW.ingress_tenant_id));
  RETURN NEW;
END $$;
""",
    """
CREATE OR REPLACE FUNCTION customers_trunk_ingress_follow() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE customers_trunknetwork
     SET ingress_tenant_id = NEW.tenant_id, ingress_tech_prefix = NEW.tech_prefix
   WHERE trunk_id = NEW.id;
  RETURN NULL;
END $$;
""",
    "CREATE TRIGGER customers_trunknetwork_ingress_fill BEFORE INSERT OR UPDATE OF trunk_id, "
    "network, ingress_tenant_id, ingress_tech_prefix ON customers_trunknetwork "
    "FOR EACH ROW EXECUTE FUNCTION customers_trunknetwork_ingress_fill()",
    "CREATE TRIGGER customers_trunk_ingress_follow AFTER UPDATE OF tenant_id, tech_prefix "
    "ON customers_trunk FOR EACH ROW WHEN (OLD.tech_prefix IS DISTINCT FROM NEW.tech_prefix "
    "OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id) "
    "EXECUTE FUNCTION customers_trunk_ingress_follow()",
]

CONSTRAINT_SQL = (
    f"ALTER TABLE customers_trunknetwork ADD CONSTRAINT {CONSTRAINT} EXCLUDE USING gist "
    "(ingress_tenant_id WITH =, ingress_tech_prefix WITH =, "
    "((network::inet)) inet_ops WITH &&, trunk_id WITH <>) DEFERRABLE INITIALLY IMMEDIATE"
)

UNINSTALL_SQL = [
    f"ALTER TABLE customers_trunknetwork DROP CONSTRAINT IF EXISTS {CONSTRAINT}",
    "DROP TRIGGER IF EXISTS customers_trunknetwork_ingress_fill ON customers_trunknetwork",
    "DROP TRIGGER IF EXISTS customers_trunk_ingress_follow ON customers_trunk",
    "DROP FUNCTION IF EXISTS customers_trunknetwork_ingress_fill()",
    "DROP FUNCTION IF EXISTS customers_trunk_ingress_follow()",
    "ALTER TABLE customers_trunknetwork DROP COLUMN IF EXISTS ingress_tenant_id, "
    "DROP COLUMN IF EXISTS ingress_tech_prefix",
]


def install(schema_editor):
    """Create the columns and triggers, fill the copies, then the constraint.

    Refuses (naming the trunks) when the data already breaks the rule: which trunk gets
    another tech prefix is the operator's choice."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in INSTALL_SQL:
        schema_editor.execute(sql, params=None)
    schema_editor.execute(BACKFILL_SQL, params=None)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(CLASHES_SQL)
        clashes = cursor.fetchall()
    if clashes:
        pairs = "; ".join(
            f"trunk {a} {na} / trunk {b} {nb} (tech prefix {p})" for a, na, b, nb, p in clashes
        )
        raise RuntimeError(
            "Some trunks of one tenant share a tech prefix and overlapping networks ("
            + pairs
            + "). Give one of each pair another tech prefix or network, then migrate again."
        )
    schema_editor.execute(CONSTRAINT_SQL, params=None)


def uninstall(schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in UNINSTALL_SQL:
        schema_editor.execute(sql, params=None)
