"""Import in a real browser, the way an operator does it: from the rules list to the upload
form (submitted empty, then with a file that has an error), to a preview that names the
routing check the import would break, Reload and Back on the preview, Apply, the change
log's entry and the import's page; and a Cancel that writes nothing."""

import pytest
from playwright.sync_api import expect

from routing.models import RoutingRule
from tests.factories import armenia_mobile_check, build_route_world
from vmgate.models import ImportRun, ImportUpload

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def csv_file(name, text):
    return {"name": name, "mimeType": "text/csv", "buffer": text.encode()}


def test_upload_preview_apply_from_the_rules_list(page, login, shot, operator, tenant):
    world = build_route_world(tenant)
    armenia_mobile_check(world)
    login("op-a")
    page.goto("/routing/rules/")
    page.get_by_test_id("import-link").click()
    expect(page.locator("h1")).to_have_text("Import routing rules")
    expect(page.get_by_test_id("import-columns")).to_contain_text("is_active")

    # Empty: the field's own error, visible.
    page.get_by_role("button", name="Preview").click()
    error = page.locator("#div_id_file .invalid-feedback, #error_1_id_file").first
    expect(error).to_be_visible()
    expect(error).to_contain_text("This field is required.")
    shot(page, "import-form-empty")

    # A file with an error: listed by line and column, and no Apply.
    page.set_input_files("input[name=file]", csv_file("rules.csv", "code,is_active\n374,maybe\n"))
    page.get_by_role("button", name="Preview").click()
    errors = page.get_by_test_id("import-errors")
    expect(errors).to_be_visible()
    expect(errors.locator("tbody tr")).to_have_count(1)
    expect(errors).to_contain_text("is_active")
    expect(errors).to_contain_text("“maybe”: Enter true or false")
    expect(page.get_by_test_id("count-error")).to_have_text("1 with errors")
    assert page.get_by_test_id("import-apply").count() == 0
    shot(page, "import-preview-errors")

    # The fixed file: the check it would break is named, before → after.
    page.get_by_role("link", name="Upload another file").click()
    page.set_input_files("input[name=file]", csv_file("rules.csv", "code,is_active\n374,no\n"))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_test_id("count-update")).to_have_text("1 to update")
    checks = page.get_by_test_id("import-checks")
    expect(checks).to_be_visible()
    expect(checks).to_contain_text("Armenia mobile")
    expect(checks).to_contain_text("routed via 374")
    expect(checks.locator("td").nth(2)).to_contain_text("Rejected: no route")
    updates = page.get_by_test_id("import-rows-update")
    expect(updates).to_contain_text("is_active")
    expect(updates.locator("del")).to_have_text("true")
    page.mouse.move(0, 0)
    shot(page, "import-preview")
    preview_url = page.url

    # Reload and Back: the preview keeps its address and stages nothing again.
    page.reload()
    expect(page.get_by_test_id("count-update")).to_have_text("1 to update")
    page.go_back()
    expect(page.locator("h1")).to_have_text("Import routing rules")
    page.go_forward()
    assert page.url == preview_url
    expect(page.get_by_test_id("import-apply")).to_be_visible()
    assert RoutingRule.objects.get(pk=world["rule"].pk).is_active  # nothing written yet

    page.get_by_test_id("import-apply").click()
    message = page.locator(".alert-success")
    expect(message).to_be_visible()
    expect(message).to_contain_text("Imported rules.csv: 1 updated")
    assert page.url.endswith("/routing/rules/")
    assert not RoutingRule.objects.get(pk=world["rule"].pk).is_active
    shot(page, "import-applied")
    message.get_by_role("link", name="Details").click()
    expect(page.get_by_test_id("import-run")).to_contain_text("op-a")
    expect(page.locator("h1")).to_have_text("Imported rules.csv: 1 updated")

    page.goto("/changes/")
    first = page.get_by_test_id("changelog").locator("tbody tr").first
    expect(first).to_contain_text("Import")
    expect(first).to_contain_text("Imported rules.csv: 1 updated")
    expect(first).to_contain_text("op-a")
    shot(page, "import-changelog")
    assert ImportRun.objects.count() == 1
    # the applied upload is gone; the abandoned one (with errors) keeps no file
    [left] = ImportUpload.objects.all()
    assert left.preview["errors_total"] == 1 and bytes(left.content) == b""


def test_cancel_writes_nothing(page, login, operator, tenant):
    build_route_world(tenant)
    login("op-a")
    page.goto("/routing/networks/")
    page.get_by_test_id("import-link").click()
    page.set_input_files("input[name=file]", csv_file("gsm.csv", "name\nGyumri\n"))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_test_id("count-create")).to_have_text("1 to create")
    expect(page.get_by_test_id("import-rows-create")).to_contain_text("Gyumri")
    page.get_by_test_id("import-cancel").click()
    message = page.locator(".alert-info")
    expect(message).to_be_visible()
    expect(message).to_contain_text("Import of gsm.csv cancelled: nothing was written.")
    assert page.url.endswith("/routing/networks/")
    expect(page.locator("#object-table")).not_to_contain_text("Gyumri")
