"""Dialpeer.code: the rule's code copied onto the dialpeer by triggers (dialpeers/rule_code.py),
backfilled here, and the partial unique index that holds "one active dialpeer per code on a
trunk" in the database."""

from django.db import migrations, models

from dialpeers import rule_code


def install_triggers(apps, schema_editor):
    rule_code.install(schema_editor)  # also backfills, and refuses data that breaks the rule


def uninstall_triggers(apps, schema_editor):
    rule_code.uninstall(schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0003_customer_trunk_count'),
        ('dialpeers', '0002_dialpeer_list_index'),
        ('routing', '0003_route_change_log'),
        ('vmgate', '0003_history_indexes'),
    ]

    operations = [
        # Nullable without a default: SQLite adds it with ALTER TABLE (no table rebuild, so
        # the change-log triggers on this table survive).
        migrations.AddField(
            model_name='dialpeer',
            name='code',
            field=models.CharField(editable=False, max_length=15, null=True),
        ),
        migrations.RunPython(install_triggers, uninstall_triggers),
        migrations.AddConstraint(
            model_name='dialpeer',
            constraint=models.UniqueConstraint(condition=models.Q(('is_active', True)), fields=('trunk', 'code'), name='dialpeer_one_active_code_per_trunk'),
        ),
    ]
