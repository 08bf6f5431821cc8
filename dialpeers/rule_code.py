"""``Dialpeer.code``: the code of the dialpeer's rule, kept by database triggers.

SPEC §3: one trunk must not have two active dialpeers whose rules share a code. The rule's
code lives on another table, so no constraint could see it; this copy on the dialpeer row
lets a partial unique index, ``dialpeer_one_active_code_per_trunk`` on ``(trunk, code)
WHERE is_active``, refuse the second one — whoever writes: a form, the admin, the API, a
bulk action, an import, ``QuerySet.update()`` or ``psql``, and also when two of them commit
at the same moment (the index makes the later insert wait for the earlier transaction and
then fail). The views turn that IntegrityError into the named refusal by validating again.

Triggers keep the copy right in the same transaction:

- a dialpeer written (insert, or an update naming ``rule_id`` or ``code``) takes its rule's
  code: whatever the writer sent for ``code`` is replaced;
- a rule whose code changes passes the new code to its dialpeers, so a rule edit that would
  route one code twice on a trunk fails on the same index ("Rule edits that would create
  such a clash are refused the same way").

PostgreSQL: a BEFORE trigger sets ``NEW.code``, reading the rule ``FOR SHARE``; a concurrent
change of that rule's code then either waits for this transaction (and its propagation sees
the new dialpeer) or is waited for (and the new code is read), so the copy is never stale.
SQLite: AFTER triggers correct the row (a BEFORE trigger cannot change it there);
``Dialpeer.save()`` already writes the right code, so the index never judges a stale one
on the Django paths. SQLite writers are serialised by its IMMEDIATE transactions.

Loading data with triggers off (``session_replication_role = replica``) leaves ``code``
unset (NULL: not guarded); run :data:`BACKFILL_SQL` afterwards. A SQLite table rebuild of
``dialpeers_dialpeer`` or ``routing_routingrule`` by a later migration drops these
triggers (as it would routing's change log): reinstall them in that migration.
"""

from routing.dialplan import CATCH_ALL
from vmgate.db_triggers import run_for_vendor

BACKFILL_SQL = (
    "UPDATE dialpeers_dialpeer SET code = "
    "(SELECT r.code FROM routing_routingrule r WHERE r.id = dialpeers_dialpeer.rule_id) "
    "WHERE code IS NULL OR code <> "
    "(SELECT r.code FROM routing_routingrule r WHERE r.id = dialpeers_dialpeer.rule_id)"
)

#: Pairs (trunk, code) with more than one active dialpeer: what the index would refuse.
CLASHES_SQL = (
    "SELECT d.trunk_id, d.code, COUNT(*) FROM dialpeers_dialpeer d WHERE d.is_active "
    "AND d.code IS NOT NULL GROUP BY d.trunk_id, d.code HAVING COUNT(*) > 1 "
    "ORDER BY d.trunk_id, d.code"
)

_RULE_CODE = "(SELECT code FROM routing_routingrule WHERE id = NEW.rule_id)"

INSTALL_SQL = {
    "postgresql": [
        """
CREATE OR REPLACE FUNCTION dialpeers_code_fill() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  SELECT code INTO NEW.code FROM routing_routingrule WHERE id = NEW.rule_id FOR SHARE;
  RETURN NEW;
END $$;
""",
        """
CREATE OR REPLACE FUNCTION dialpeers_code_follow_rule() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE dialpeers_dialpeer SET code = NEW.code WHERE rule_id = NEW.id;
  RETURN NULL;
END $$;
""",
        "CREATE TRIGGER dialpeers_code_fill BEFORE INSERT OR UPDATE OF rule_id, code "
        "ON dialpeers_dialpeer FOR EACH ROW EXECUTE FUNCTION dialpeers_code_fill()",
        "CREATE TRIGGER dialpeers_code_follow_rule AFTER UPDATE OF code "
        "ON routing_routingrule FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code) "
        "EXECUTE FUNCTION dialpeers_code_follow_rule()",
    ],
    "sqlite": [
        f"CREATE TRIGGER dialpeers_code_ins AFTER INSERT ON dialpeers_dialpeer "
        f"WHEN NEW.code IS NOT {_RULE_CODE} BEGIN "
        f"UPDATE dialpeers_dialpeer SET code = {_RULE_CODE} WHERE id = NEW.id; END",
        f"CREATE TRIGGER dialpeers_code_upd AFTER UPDATE OF rule_id, code ON dialpeers_dialpeer "
        f"WHEN NEW.code IS NOT {_RULE_CODE} BEGIN "
        f"UPDATE dialpeers_dialpeer SET code = {_RULE_CODE} WHERE id = NEW.id; END",
        "CREATE TRIGGER dialpeers_code_follow_rule AFTER UPDATE OF code ON routing_routingrule "
        "WHEN OLD.code IS NOT NEW.code BEGIN "
        "UPDATE dialpeers_dialpeer SET code = NEW.code WHERE rule_id = NEW.id; END",
    ],
}

UNINSTALL_SQL = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS dialpeers_code_fill ON dialpeers_dialpeer",
        "DROP TRIGGER IF EXISTS dialpeers_code_follow_rule ON routing_routingrule",
        "DROP FUNCTION IF EXISTS dialpeers_code_fill()",
        "DROP FUNCTION IF EXISTS dialpeers_code_follow_rule()",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS dialpeers_code_ins",
        "DROP TRIGGER IF EXISTS dialpeers_code_upd",
        "DROP TRIGGER IF EXISTS dialpeers_code_follow_rule",
    ],
}


def _run(schema_editor, statements):
    run_for_vendor(schema_editor, statements, "Dialpeer.code triggers")


def install(schema_editor):
    """Create the triggers and copy every dialpeer's rule code once (the backfill).

    Refuses (with the pairs named) when the data already breaks the rule: the unique index
    could not be built, and which dialpeer to deactivate is the operator's choice."""
    _run(schema_editor, INSTALL_SQL)
    schema_editor.execute(BACKFILL_SQL, params=None)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(CLASHES_SQL)
        clashes = cursor.fetchall()
    if clashes:
        pairs = "; ".join(f"trunk {t} code {c or CATCH_ALL}: {n}" for t, c, n in clashes[:20])
        raise RuntimeError(
            "Some trunks have more than one active dialpeer for one code (" + pairs + "). "
            "Deactivate all but one of each, then migrate again."
        )


def uninstall(schema_editor):
    _run(schema_editor, UNINSTALL_SQL)
