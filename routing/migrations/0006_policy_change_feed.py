"""The change feed follows the routing-policy tables too (routing/engine/feed.py,
POLICY_SPECS): an edit of a translation set, number list, schedule, network or a trunk's
lists reaches every index within a poll, like every other routing change."""

from django.db import migrations

from routing.engine import feed


def install(apps, schema_editor):
    feed.install(schema_editor, feed.POLICY_SPECS)


def uninstall(apps, schema_editor):
    feed.uninstall(schema_editor, feed.POLICY_SPECS, table=False)


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0005_routing_policy"),
        ("customers", "0009_trunk_routing_policy"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
