"""The change feed the in-process routing index follows (``routing_routechange``).

(Not the user-facing "Change log" page, which lists simple-history's records.)

Database triggers on every table the routing decision reads append one row per changed
row, in the same transaction as the edit. Because the triggers live in the database, every
committed change is logged whoever made it: the UI, the admin, the API, ``QuerySet.update()``,
bulk operations, a migration or ``psql``. Rows say *what* to reload, never the new values:

=========  ===========================  ===========  ============  =====================
kind       table                        obj_id       ref_id        code
=========  ===========================  ===========  ============  =====================
customer   customers_customer           customer id
trunk      customers_trunk              trunk id
trunknet   customers_trunknetwork       trunk id
plan       customers_rateplan           plan id
rate       customers_rate               plan id                    the rate's code
client     routing_vmgateclient         client id
client     routing_simslot              client id
rule       routing_routingrule          rule id                    the rule's code
target     routing_routingtarget        rule id
dp         dialpeers_dialpeer           dialpeer id  trunk id      the linked rule's code
network    routing_network              network id
tset       routing_translationset       set id
tset       routing_translationrule      set id
nlist      routing_numberlist           list id
nlist      routing_numberlistentry      list id
sched      routing_schedule             schedule id
sched      routing_schedulewindow       schedule id
trunk      customers_trunknumberlist    trunk id
=========  ===========================  ===========  ============  =====================

The last eight (routing policy, SPEC §9) came with their tables, in a later migration:
:data:`BASE_SPECS` are what migration ``routing.0003`` installs, :data:`POLICY_SPECS` what
``routing.0006`` adds.

An update that moves a row (another trunk, another code…) logs the old and the new place.

On PostgreSQL each row carries ``xid`` (``txid_current()``), so a reader can find rows of
transactions that were still running when it last looked (see ``routing.engine.index``). The table is
plain SQL, not a Django model: it is machinery, not domain data.
"""

TABLE = "routing_routechange"

# name, table, kind, parent (table, fk) or None, obj expr, ref expr, code expr, key columns
BASE_SPECS = [
    ("customer", "customers_customer", "customer", None, "{r}.id", "NULL", "NULL", []),
    ("trunk", "customers_trunk", "trunk", None, "{r}.id", "NULL", "NULL", []),
    (
        "trunknet",
        "customers_trunknetwork",
        "trunknet",
        ("customers_trunk", "trunk_id"),
        "{r}.trunk_id",
        "NULL",
        "NULL",
        ["trunk_id"],
    ),
    ("plan", "customers_rateplan", "plan", None, "{r}.id", "NULL", "NULL", []),
    (
        "rate",
        "customers_rate",
        "rate",
        ("customers_rateplan", "rate_plan_id"),
        "{r}.rate_plan_id",
        "NULL",
        "{r}.code",
        ["rate_plan_id", "code"],
    ),
    ("client", "routing_vmgateclient", "client", None, "{r}.id", "NULL", "NULL", []),
    (
        "slot",
        "routing_simslot",
        "client",
        ("routing_vmgateclient", "client_id"),
        "{r}.client_id",
        "NULL",
        "NULL",
        ["client_id"],
    ),
    ("rule", "routing_routingrule", "rule", None, "{r}.id", "NULL", "{r}.code", ["code"]),
    (
        "target",
        "routing_routingtarget",
        "target",
        ("routing_routingrule", "rule_id"),
        "{r}.rule_id",
        "NULL",
        "NULL",
        ["rule_id"],
    ),
    (
        "dp",
        "dialpeers_dialpeer",
        "dp",
        None,
        "{r}.id",
        "{r}.trunk_id",
        "(SELECT code FROM routing_routingrule WHERE id = {r}.rule_id)",
        ["trunk_id", "rule_id"],
    ),
]


def _child(name, table, kind, parent, fk):
    return (name, table, kind, (parent, fk), "{r}." + fk, "NULL", "NULL", [fk])


POLICY_SPECS = [
    ("network", "routing_network", "network", None, "{r}.id", "NULL", "NULL", []),
    ("tset", "routing_translationset", "tset", None, "{r}.id", "NULL", "NULL", []),
    _child(
        "trule", "routing_translationrule", "tset", "routing_translationset", "translation_set_id"
    ),
    ("nlist", "routing_numberlist", "nlist", None, "{r}.id", "NULL", "NULL", []),
    _child("nlentry", "routing_numberlistentry", "nlist", "routing_numberlist", "number_list_id"),
    ("sched", "routing_schedule", "sched", None, "{r}.id", "NULL", "NULL", []),
    _child("swindow", "routing_schedulewindow", "sched", "routing_schedule", "schedule_id"),
    _child("trunklist", "customers_trunknumberlist", "trunk", "customers_trunk", "trunk_id"),
]

SPECS = BASE_SPECS + POLICY_SPECS

CREATE_TABLE = {
    "postgresql": f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id bigserial PRIMARY KEY,
    tenant_id bigint NOT NULL,
    xid bigint NOT NULL DEFAULT 0,
    token bigint NOT NULL DEFAULT 0,
    kind varchar(10) NOT NULL,
    obj_id bigint NOT NULL,
    ref_id bigint NULL,
    code varchar(15) NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS {TABLE}_tenant_xid ON {TABLE} (tenant_id, xid);
CREATE INDEX IF NOT EXISTS {TABLE}_created ON {TABLE} (created_at);
""",
    "sqlite": f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id integer PRIMARY KEY AUTOINCREMENT,
    tenant_id bigint NOT NULL,
    xid bigint NOT NULL DEFAULT 0,
    token bigint NOT NULL DEFAULT 0,
    kind varchar(10) NOT NULL,
    obj_id bigint NOT NULL,
    ref_id bigint NULL,
    code varchar(15) NULL,
    created_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS {TABLE}_tenant_id ON {TABLE} (tenant_id, id);
CREATE INDEX IF NOT EXISTS {TABLE}_created ON {TABLE} (created_at);
""",
}


def _insert(spec, r, vendor, condition=""):
    """``INSERT INTO log SELECT tenant, xid, token, kind, obj, ref, code [FROM parent]`` for
    row ``r`` (``NEW`` or ``OLD``), only when ``condition`` holds."""
    _, _, kind, parent, obj, ref, code, _ = spec
    xid = "txid_current()" if vendor == "postgresql" else "0"
    token = "(random() * 2147483647)::bigint" if vendor == "postgresql" else "random()"
    cols = f"'{kind}', {obj.format(r=r)}, {ref.format(r=r)}, {code.format(r=r)}"
    conds = [condition] if condition else []
    if parent:
        ptable, fk = parent
        select = f"SELECT p.tenant_id, {xid}, {token}, {cols} FROM {ptable} p"
        conds.insert(0, f"p.id = {r}.{fk}")
    else:
        select = f"SELECT {r}.tenant_id, {xid}, {token}, {cols}"
    where = f" WHERE {' AND '.join(conds)}" if conds else ""
    return (
        f"INSERT INTO {TABLE} (tenant_id, xid, token, kind, obj_id, ref_id, code) {select}{where};"
    )


def _moved(spec, vendor):
    keys = spec[7]
    if not keys:
        return ""
    op = "IS DISTINCT FROM" if vendor == "postgresql" else "IS NOT"
    return "(" + " OR ".join(f"OLD.{k} {op} NEW.{k}" for k in keys) + ")"


def install_sql(vendor, specs=None):
    """Statements creating the table and the triggers of ``specs`` (all) on ``vendor``."""
    out = [CREATE_TABLE[vendor]]
    for spec in SPECS if specs is None else specs:
        name, table = spec[0], spec[1]
        fn = f"routing_rc_{name}"
        moved = _moved(spec, vendor)
        if vendor == "postgresql":
            old_on_update = (
                f"ELSIF TG_OP = 'UPDATE' AND {moved} THEN\n    " + _insert(spec, "OLD", vendor)
                if moved
                else ""
            )
            out.append(
                f"""
CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    {_insert(spec, "OLD", vendor)}
  {old_on_update}
  END IF;
  IF TG_OP <> 'DELETE' THEN
    {_insert(spec, "NEW", vendor)}
  END IF;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS {fn} ON {table};
CREATE TRIGGER {fn} AFTER INSERT OR UPDATE OR DELETE ON {table}
  FOR EACH ROW EXECUTE FUNCTION {fn}();
"""
            )
        else:
            update_body = (_insert(spec, "OLD", vendor, moved) if moved else "") + _insert(
                spec, "NEW", vendor
            )
            out.append(
                f"""
CREATE TRIGGER IF NOT EXISTS {fn}_ins AFTER INSERT ON {table} BEGIN {_insert(spec, "NEW", vendor)} END;
CREATE TRIGGER IF NOT EXISTS {fn}_upd AFTER UPDATE ON {table} BEGIN {update_body} END;
CREATE TRIGGER IF NOT EXISTS {fn}_del AFTER DELETE ON {table} BEGIN {_insert(spec, "OLD", vendor)} END;
"""
            )
    return out


def uninstall_sql(vendor, specs=None, table=True):
    out = []
    for spec in SPECS if specs is None else specs:
        name, table = spec[0], spec[1]
        fn = f"routing_rc_{name}"
        if vendor == "postgresql":
            out.append(f"DROP TRIGGER IF EXISTS {fn} ON {table}; DROP FUNCTION IF EXISTS {fn}();")
        else:
            out.extend(f"DROP TRIGGER IF EXISTS {fn}_{op};" for op in ("ins", "upd", "del"))
    if table:
        out.append(f"DROP TABLE IF EXISTS {TABLE};")
    return out


def install(schema_editor, specs=None):
    vendor = schema_editor.connection.vendor
    if vendor not in CREATE_TABLE:
        raise NotImplementedError(f"routing change log: unsupported database {vendor}")
    for sql in install_sql(vendor, specs):
        if vendor == "sqlite":
            # sqlite3's execute() runs one statement at a time.
            for stmt in _split_sqlite(sql):
                schema_editor.execute(stmt, params=None)
        else:
            schema_editor.execute(sql, params=None)


def uninstall(schema_editor, specs=None, table=True):
    for sql in uninstall_sql(schema_editor.connection.vendor, specs, table):
        schema_editor.execute(sql, params=None)


def _split_sqlite(sql):
    """Split on statement ends, keeping ``CREATE TRIGGER … BEGIN …; END;`` whole."""
    stmts, buf, depth = [], [], 0
    for line in sql.strip().splitlines():
        if not line.strip():
            continue
        buf.append(line)
        if line.lstrip().upper().startswith("CREATE TRIGGER"):
            stmts.append("\n".join(buf).rstrip().rstrip(";"))
            buf = []
            continue
        if line.rstrip().endswith(";") and depth == 0:
            stmts.append("\n".join(buf).rstrip().rstrip(";"))
            buf = []
    if buf:
        stmts.append("\n".join(buf))
    return stmts
