"""Indexes for the Change log (vmgate.views_changelog) on the django-simple-history tables:

- every history table: ``(id, history_date, history_id)`` — an object's previous record,
  to diff against, is one index probe instead of a scan by date;
- tenant-owned kinds: ``(tenant_id, history_date, history_id)`` — a tenant's newest records
  (or those older than a position) are an index range, however many other tenants share
  the table, and ``(tenant_id, history_type, history_date)`` for the action filter.

simple-history builds the historical models' Meta itself, so the indexes are created here
(for PostgreSQL and SQLite alike) instead of being declared on the models.
"""

from django.db import migrations

HISTORY_MODELS = [
    ("customers", "HistoricalCustomer", True),
    ("customers", "HistoricalTrunk", True),
    ("customers", "HistoricalTrunkNetwork", False),
    ("customers", "HistoricalRatePlan", True),
    ("customers", "HistoricalRate", False),
    ("routing", "HistoricalNetwork", True),
    ("routing", "HistoricalVMGateClient", True),
    ("routing", "HistoricalSimSlot", False),
    ("routing", "HistoricalRoutingRule", True),
    ("routing", "HistoricalRoutingTarget", False),
    ("routing", "HistoricalRoutingCheck", True),
    ("dialpeers", "HistoricalDialpeer", True),
]


def _indexes(apps):
    for app_label, model_name, tenant_owned in HISTORY_MODELS:
        table = apps.get_model(app_label, model_name)._meta.db_table
        short = model_name.lower().removeprefix("historical")[:20]
        yield f"hist_{short}_obj_idx", table, ("id", "history_date", "history_id")
        if tenant_owned:
            yield f"hist_{short}_tenant_idx", table, ("tenant_id", "history_date", "history_id")
            yield f"hist_{short}_type_idx", table, ("tenant_id", "history_type", "history_date")


def create(apps, schema_editor):
    q = schema_editor.quote_name
    for name, table, columns in _indexes(apps):
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {q(name)} ON {q(table)} ({', '.join(map(q, columns))})"
        )


def drop(apps, schema_editor):
    q = schema_editor.quote_name
    for name, _, _ in _indexes(apps):
        schema_editor.execute(f"DROP INDEX IF EXISTS {q(name)}")


class Migration(migrations.Migration):
    dependencies = [
        ("vmgate", "0002_apitoken"),
        ("customers", "0001_initial"),
        ("routing", "0003_route_change_log"),
        ("dialpeers", "0002_dialpeer_list_index"),
    ]

    operations = [migrations.RunPython(create, drop)]
