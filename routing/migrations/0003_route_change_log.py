"""The change log the in-process routing index follows: a table plus database triggers on
every table the routing decision reads (see routing/engine/feed.py, once routing/changelog.py)."""

from django.db import migrations

from routing.engine import feed


def install(apps, schema_editor):
    feed.install(schema_editor, feed.BASE_SPECS)


def uninstall(apps, schema_editor):
    feed.uninstall(schema_editor, feed.BASE_SPECS)


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0002_rule_list_index"),
        ("customers", "0001_initial"),
        ("dialpeers", "0001_initial"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
