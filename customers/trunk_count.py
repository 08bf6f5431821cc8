"""``Customer.trunk_count``: the number of trunks of a customer, kept by database triggers.

The customers list shows and sorts by this count. Counting per row (a correlated
``COUNT(*)`` subquery) made "sort by trunks" count the trunks of every customer of the tenant
on every page view (48 ms at 10,000 customers / 50,000 trunks, growing with the tenant); the
stored count is read from an index instead.

Triggers on ``customers_trunk`` keep it right in the same transaction as the change,
whoever makes it: forms, admin, API, ``bulk_create``, ``QuerySet.update()``/``delete()``,
cascades, a migration or ``psql``. Django never writes the column itself
(``Customer.save()`` leaves it out of its UPDATE, so a stale in-memory value cannot
overwrite a count a trigger just changed).

- PostgreSQL: statement-level triggers with transition tables: one ``UPDATE`` per statement
  and customer, so a bulk insert of 50,000 trunks does not update customers 50,000 times.
- SQLite: row-level triggers (no transition tables there).

Loading data with triggers off (``session_replication_role = replica``, as
``bench/gen_route_data.py`` does) skips them: run :data:`RECOUNT_SQL` afterwards.
"""

from vmgate.db_triggers import run_for_vendor

RECOUNT_SQL = (
    "UPDATE customers_customer SET trunk_count = "
    "(SELECT COUNT(*) FROM customers_trunk t WHERE t.customer_id = customers_customer.id)"
)

_PG_APPLY = """
CREATE OR REPLACE FUNCTION customers_trunk_count_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE customers_customer c SET trunk_count = c.trunk_count + d.n
      FROM (SELECT customer_id, COUNT(*) AS n FROM trunk_count_new GROUP BY customer_id) d
     WHERE c.id = d.customer_id;
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE customers_customer c SET trunk_count = c.trunk_count - d.n
      FROM (SELECT customer_id, COUNT(*) AS n FROM trunk_count_old GROUP BY customer_id) d
     WHERE c.id = d.customer_id;
  END IF;
  RETURN NULL;
END $$;
"""

# An UPDATE only counts for the rows whose customer changed: the UPDATE trigger sees them
# through a function that keeps those rows only (a column list, "UPDATE OF customer_id",
# is not allowed together with transition tables).
_PG_MOVE = """
CREATE OR REPLACE FUNCTION customers_trunk_count_move() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE customers_customer c SET trunk_count = c.trunk_count + d.n
    FROM (SELECT n.customer_id, COUNT(*) AS n
            FROM trunk_count_new n JOIN trunk_count_old o ON o.id = n.id
           WHERE o.customer_id IS DISTINCT FROM n.customer_id
           GROUP BY n.customer_id) d
   WHERE c.id = d.customer_id;
  UPDATE customers_customer c SET trunk_count = c.trunk_count - d.n
    FROM (SELECT o.customer_id, COUNT(*) AS n
            FROM trunk_count_new n JOIN trunk_count_old o ON o.id = n.id
           WHERE o.customer_id IS DISTINCT FROM n.customer_id
           GROUP BY o.customer_id) d
   WHERE c.id = d.customer_id;
  RETURN NULL;
END $$;
"""

INSTALL_SQL = {
    "postgresql": [
        _PG_APPLY,
        _PG_MOVE,
        "CREATE TRIGGER customers_trunk_count_ins AFTER INSERT ON customers_trunk "
        "REFERENCING NEW TABLE AS trunk_count_new "
        "FOR EACH STATEMENT EXECUTE FUNCTION customers_trunk_count_apply()",
        "CREATE TRIGGER customers_trunk_count_del AFTER DELETE ON customers_trunk "
        "REFERENCING OLD TABLE AS trunk_count_old "
        "FOR EACH STATEMENT EXECUTE FUNCTION customers_trunk_count_apply()",
        "CREATE TRIGGER customers_trunk_count_upd AFTER UPDATE ON customers_trunk "
        "REFERENCING OLD TABLE AS trunk_count_old NEW TABLE AS trunk_count_new "
        "FOR EACH STATEMENT EXECUTE FUNCTION customers_trunk_count_move()",
    ],
    "sqlite": [
        "CREATE TRIGGER customers_trunk_count_ins AFTER INSERT ON customers_trunk BEGIN "
        "UPDATE customers_customer SET trunk_count = trunk_count + 1 "
        "WHERE id = NEW.customer_id; END",
        "CREATE TRIGGER customers_trunk_count_del AFTER DELETE ON customers_trunk BEGIN "
        "UPDATE customers_customer SET trunk_count = trunk_count - 1 "
        "WHERE id = OLD.customer_id; END",
        "CREATE TRIGGER customers_trunk_count_upd AFTER UPDATE OF customer_id "
        "ON customers_trunk WHEN OLD.customer_id IS NOT NEW.customer_id BEGIN "
        "UPDATE customers_customer SET trunk_count = trunk_count - 1 "
        "WHERE id = OLD.customer_id; "
        "UPDATE customers_customer SET trunk_count = trunk_count + 1 "
        "WHERE id = NEW.customer_id; END",
    ],
}

UNINSTALL_SQL = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS customers_trunk_count_ins ON customers_trunk",
        "DROP TRIGGER IF EXISTS customers_trunk_count_del ON customers_trunk",
        "DROP TRIGGER IF EXISTS customers_trunk_count_upd ON customers_trunk",
        "DROP FUNCTION IF EXISTS customers_trunk_count_apply()",
        "DROP FUNCTION IF EXISTS customers_trunk_count_move()",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS customers_trunk_count_ins",
        "DROP TRIGGER IF EXISTS customers_trunk_count_del",
        "DROP TRIGGER IF EXISTS customers_trunk_count_upd",
    ],
}


def _run(schema_editor, statements):
    run_for_vendor(schema_editor, statements, "Customer.trunk_count triggers")


def install(schema_editor):
    """Create the triggers, then count every customer's trunks once (the backfill)."""
    _run(schema_editor, INSTALL_SQL)
    schema_editor.execute(RECOUNT_SQL, params=None)


def uninstall(schema_editor):
    _run(schema_editor, UNINSTALL_SQL)
