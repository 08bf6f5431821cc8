"""Running a set of per-vendor SQL statements from a migration (the trigger installers:
``customers.trunk_count``, ``dialpeers.rule_code``)."""


def run_for_vendor(schema_editor, statements, what):
    """Execute ``statements[vendor]`` one by one; a vendor without statements is refused
    (``what`` names the triggers in the error) rather than silently left without them."""
    vendor = schema_editor.connection.vendor
    if vendor not in statements:
        raise NotImplementedError(f"{what} for {vendor}")
    for sql in statements[vendor]:
        schema_editor.execute(sql, params=None)
