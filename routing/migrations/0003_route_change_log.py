"""The change log the in-process routing index follows: a table plus database triggers on
every table the routing decision reads (see routing/changelog.py)."""

from django.db import migrations


def install(apps, schema_editor):
    from routing import changelog

    changelog.install(schema_editor)


def uninstall(apps, schema_editor):
    from routing import changelog

    changelog.uninstall(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0002_rule_list_index"),
        ("customers", "0001_initial"),
        ("dialpeers", "0001_initial"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
