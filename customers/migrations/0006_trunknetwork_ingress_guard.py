"""Unambiguous ingress held by PostgreSQL: trunk networks carry copies of their trunk's tenant
and tech prefix (kept by triggers), and an exclusion constraint (btree_gist) refuses two
overlapping networks of one tenant and tech prefix on different trunks. See
customers/ingress_guard.py. Nothing changes on SQLite."""

from django.db import migrations

from customers import ingress_guard


def install(apps, schema_editor):
    ingress_guard.install(schema_editor)


def uninstall(apps, schema_editor):
    ingress_guard.uninstall(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_trunk_max_cps_sip_edge"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
