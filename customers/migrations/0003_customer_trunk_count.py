"""Customer.trunk_count: a stored trunk count, kept by triggers (customers/trunk_count.py),
backfilled here, with an index for the customers list sorted by it."""

from django.db import migrations, models

from customers import trunk_count

# SQLite's schema editor adds a NOT NULL column by rebuilding the table, which would drop
# the triggers other apps keep on customers_customer (routing's change log). A plain
# ADD COLUMN with a constant default does the same job and keeps them.
SQLITE_ADD = (
    'ALTER TABLE "customers_customer" ADD COLUMN "trunk_count" integer unsigned '
    'NOT NULL DEFAULT 0 CHECK ("trunk_count" >= 0)'
)


def trunk_count_field(model=None):
    field = models.PositiveIntegerField(
        db_default=0, default=0, editable=False, verbose_name="trunks"
    )
    field.set_attributes_from_name("trunk_count")
    if model is not None:
        field.model = model
    return field


def add_column(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_ADD, params=None)
    else:
        model = apps.get_model("customers", "Customer")
        schema_editor.add_field(model, trunk_count_field(model))


def drop_column(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            'ALTER TABLE "customers_customer" DROP COLUMN "trunk_count"', params=None
        )
    else:
        model = apps.get_model("customers", "Customer")
        schema_editor.remove_field(model, trunk_count_field(model))


def install_triggers(apps, schema_editor):
    trunk_count.install(schema_editor)  # also counts the existing trunks


def uninstall_triggers(apps, schema_editor):
    trunk_count.uninstall(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_rate_list_order_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="customer",
                    name="trunk_count",
                    field=trunk_count_field(),
                ),
            ],
            database_operations=[migrations.RunPython(add_column, drop_column)],
        ),
        migrations.RunPython(install_triggers, uninstall_triggers),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                fields=["tenant", "trunk_count", "id"], name="customer_trunk_count"
            ),
        ),
    ]
