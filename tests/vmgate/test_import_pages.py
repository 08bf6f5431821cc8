"""The import pages (SPEC §8): each list offers Import to operators; upload → a preview at its
own address → Apply (one transaction, one change-log entry) or Cancel (nothing written); a
preview older than an hour, or made stale by another change, is previewed again instead of
applied; viewers get 403 and another tenant's upload is a 404."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from customers.models import Customer, Rate
from routing.models import Network
from tests import factories as f
from vmgate.imports import MAX_BYTES
from vmgate.models import ImportRun, ImportUpload

pytestmark = pytest.mark.django_db

NETWORKS = b"name\nYerevan\nGyumri\n"


def upload(client, kind, content, name="file.csv", **fields):
    return client.post(
        reverse("vmgate:importupload_add", args=[kind]),
        {"file": SimpleUploadedFile(name, content), "mode": "update", **fields},
    )


def test_every_importable_list_offers_import_to_operators_only(op_client, viewer, tenant):
    viewer_client = Client()
    viewer_client.force_login(viewer)
    plan = f.RatePlanFactory(tenant=tenant)
    lists = {
        "customers": reverse("customers:customer_list"),
        "trunks": reverse("customers:trunk_list"),
        "rates": reverse("customers:rate_list", args=[plan.pk]),
        "networks": reverse("routing:network_list"),
        "clients": reverse("routing:vmgateclient_list"),
        "rules": reverse("routing:routingrule_list"),
        "dialpeers": reverse("dialpeers:dialpeer_list"),
    }
    for kind, url in lists.items():
        target = reverse("vmgate:importupload_add", args=[kind])
        html = op_client.get(url).content.decode()
        assert f'href="{target}' in html, kind
        assert target not in viewer_client.get(url).content.decode()
        assert viewer_client.get(target).status_code == 403
    targets = reverse("vmgate:importupload_add", args=["targets"])  # beside the rules' Import
    assert f'href="{targets}"' in op_client.get(lists["rules"]).content.decode()
    assert targets not in viewer_client.get(lists["rules"]).content.decode()
    html = op_client.get(lists["rates"]).content.decode()
    assert (
        f'href="{reverse("vmgate:importupload_add", args=["rates"])}?rate_plan={plan.pk}"' in html
    )


def test_upload_preview_apply(op_client, operator, tenant):
    response = upload(op_client, "networks", NETWORKS, name="gsm.csv")
    stored = ImportUpload.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("vmgate:importupload_detail", args=[stored.pk])
    page = op_client.get(response["Location"]).content.decode()
    assert "2 to create" in page and "Yerevan" in page and "Gyumri" in page
    assert not Network.objects.exists()  # the preview wrote nothing
    again = op_client.get(response["Location"]).content.decode()  # Reload: the same page
    assert "2 to create" in again and ImportUpload.objects.count() == 1
    done = op_client.post(reverse("vmgate:importupload_apply", args=[stored.pk]), follow=True)
    assert sorted(Network.objects.values_list("name", flat=True)) == ["Gyumri", "Yerevan"]
    assert "Imported gsm.csv: 2 created" in done.content.decode()
    assert done.redirect_chain[-1][0] == reverse("routing:network_list")
    assert not ImportUpload.objects.exists()
    run = ImportRun.objects.get()
    assert run.user == operator
    log = op_client.get(reverse("vmgate:changelog")).content.decode()
    assert "Imported gsm.csv: 2 created" in log
    assert reverse("vmgate:importrun_detail", args=[run.pk]) in log


def test_cancel_writes_nothing(op_client):
    upload(op_client, "networks", NETWORKS)
    stored = ImportUpload.objects.get()
    done = op_client.post(reverse("vmgate:importupload_cancel", args=[stored.pk]), follow=True)
    assert "cancelled: nothing was written" in done.content.decode()
    assert not Network.objects.exists() and not ImportUpload.objects.exists()


def test_a_file_with_errors_lists_them_and_cannot_be_applied(op_client, tenant):
    content = b"name,country,billing_type\nGood,AM,prepaid\nBad,ZZ,prepaid\n"
    upload(op_client, "customers", content)
    stored = ImportUpload.objects.get()
    page = op_client.get(reverse("vmgate:importupload_detail", args=[stored.pk])).content.decode()
    assert "1 with errors" in page and "Select a valid choice" in page
    assert 'data-testid="import-apply"' not in page
    op_client.post(reverse("vmgate:importupload_apply", args=[stored.pk]))
    assert not Customer.objects.exists()


def test_the_form_refuses_an_empty_submit_a_missing_plan_and_a_huge_file(
    op_client, tenant, other_tenant
):
    response = op_client.post(reverse("vmgate:importupload_add", args=["networks"]), {})
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == ["This field is required."]
    theirs = f.RatePlanFactory(tenant=other_tenant)
    response = upload(op_client, "rates", b"code\n374\n", rate_plan=theirs.pk)
    assert "Select a valid choice" in response.context["form"].errors["rate_plan"][0]
    big = b"name\n" + b"x" * MAX_BYTES
    response = upload(op_client, "networks", big)
    assert "the limit is 20 MB" in response.context["form"].errors["file"][0]
    assert not ImportUpload.objects.exists()
    assert op_client.get(reverse("vmgate:importupload_add", args=["nothing"])).status_code == 404


def test_an_old_preview_is_previewed_again_not_applied(op_client, tenant):
    upload(op_client, "networks", NETWORKS)
    stored = ImportUpload.objects.get()
    ImportUpload.objects.filter(pk=stored.pk).update(
        created_at=stored.created_at - timedelta(hours=1, minutes=1)
    )
    page = op_client.get(reverse("vmgate:importupload_detail", args=[stored.pk])).content.decode()
    assert 'data-testid="import-apply"' not in page
    done = op_client.post(reverse("vmgate:importupload_apply", args=[stored.pk]), follow=True)
    assert "more than an hour old, so nothing was applied" in done.content.decode()
    assert not Network.objects.exists()
    assert 'data-testid="import-apply"' in done.content.decode()  # fresh again
    op_client.post(reverse("vmgate:importupload_apply", args=[stored.pk]))
    assert Network.objects.count() == 2


def test_a_preview_made_stale_by_another_change_is_previewed_again(op_client, tenant):
    plan = f.RatePlanFactory(tenant=tenant)
    f.RateFactory(rate_plan=plan, code="374", rate_per_min=Decimal("0.1"))
    deck = b"code,valid_since,rate_per_min\n374,2026-01-01T00:00:00Z,0.2\n"
    upload(op_client, "rates", deck, rate_plan=plan.pk)
    stored = ImportUpload.objects.get()
    Rate.objects.filter(code="374").update(rate_per_min=Decimal("0.2"))  # someone else
    done = op_client.post(reverse("vmgate:importupload_apply", args=[stored.pk]), follow=True)
    html = done.content.decode()
    assert "The data changed since the preview, so nothing was applied" in html
    assert "1 unchanged" in html
    assert not ImportRun.objects.exists()


def test_another_tenants_upload_and_run_are_404(op_client, other_operator, tenant):
    client = Client()
    client.force_login(other_operator)
    upload(client, "networks", NETWORKS)
    theirs = ImportUpload.objects.get()
    for name in ("vmgate:importupload_detail",):
        assert op_client.get(reverse(name, args=[theirs.pk])).status_code == 404
    for name in ("vmgate:importupload_apply", "vmgate:importupload_cancel"):
        assert op_client.post(reverse(name, args=[theirs.pk])).status_code == 404
    client.post(reverse("vmgate:importupload_apply", args=[theirs.pk]))
    run = ImportRun.objects.get()
    assert op_client.get(reverse("vmgate:importrun_detail", args=[run.pk])).status_code == 404
    assert ImportUpload.objects.filter(pk=theirs.pk).count() == 0
    assert not Network.objects.filter(tenant=tenant).exists()


def test_uploads_left_for_a_day_are_forgotten(op_client, tenant):
    upload(op_client, "networks", NETWORKS)
    old = ImportUpload.objects.get()
    ImportUpload.objects.filter(pk=old.pk).update(
        created_at=old.created_at - timedelta(days=1, minutes=1)
    )
    upload(op_client, "networks", NETWORKS)
    assert not ImportUpload.objects.filter(pk=old.pk).exists()
    assert ImportUpload.objects.count() == 1
