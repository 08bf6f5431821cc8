"""The import pages (SPEC §8): upload → preview → Apply or Cancel.

Upload stages the file (:func:`vmgate.imports.run_import`, rolled back) and keeps it with its
preview (:class:`~vmgate.models.ImportUpload`); the preview has its own address, so Reload
and Back show it again without staging anything. Apply stages the file once more and commits
only if the result is the one previewed (its fingerprint) and the preview is younger than
an hour; otherwise the new preview is shown, with a warning, to be checked and applied
again. Cancel forgets the file. Only operators import; another tenant's upload is a 404.
"""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods, require_POST

from customers.models import RatePlan
from vmgate.context_processors import section_label
from vmgate.import_kinds import KINDS
from vmgate.imports import DEFAULT_MODE, MAX_BYTES, run_import, too_large
from vmgate.models import IMPORT_UPLOAD_TTL, ImportRun, ImportUpload
from vmgate.tenancy import parse_pk, require_operator, scoped, tenant_or_404

#: How long an upload left without Apply or Cancel is kept (an expired preview can still be
#: previewed again until then).
UPLOAD_KEPT = timedelta(days=1)

MODE_CHOICES = [
    ("update", "Update — create new rows, update existing ones (default)"),
    ("add", "Add — create new rows only; a row that exists is an error"),
    ("replace", "Replace — the file becomes the whole set: rows absent from it are deleted"),
]


class ImportForm(forms.Form):
    file = forms.FileField(
        help_text=f"CSV (UTF-8; comma, semicolon or tab) or XLSX, at most {MAX_BYTES // 1048576} MB."
    )
    mode = forms.ChoiceField(choices=MODE_CHOICES, initial=DEFAULT_MODE, widget=forms.RadioSelect)
    rate_plan = forms.ModelChoiceField(queryset=RatePlan.objects.none(), required=False)

    def __init__(self, *args, tenant, kind, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        if kind.needs_rate_plan:
            self.fields["rate_plan"].queryset = scoped(RatePlan, tenant).order_by("name")
            self.fields["rate_plan"].required = True
            self.fields["rate_plan"].help_text = "The plan the rates go into."
        else:
            del self.fields["rate_plan"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(too_large(upload.size))
        return upload


def _kind_or_404(key):
    kind = KINDS.get(key)
    if kind is None:
        raise Http404("No such import.")
    return kind


def list_url(kind, rate_plan_id=None):
    if kind.needs_rate_plan and rate_plan_id:
        return reverse("customers:rate_list", args=[rate_plan_id])
    return reverse(kind.list_url)


def crumbs(request, kind, rate_plan=None, *tail):
    """Home › the kind's list (a plan's rates under Rate plans) › ``tail``; the sidebar
    highlights the kind's section."""
    request.sidebar_section = kind.list_url
    out = [("Home", reverse("home")), (section_label(kind.list_url), reverse(kind.list_url))]
    if rate_plan is not None:
        out.append((rate_plan.name, list_url(kind, rate_plan.pk)))
    return [*out, *tail]


@require_http_methods(["GET", "POST"])
def import_new(request, kind):
    tenant = require_operator(request)
    kind = _kind_or_404(kind)
    initial = {}
    plan = parse_pk(request.GET.get("rate_plan"))
    if kind.needs_rate_plan and plan is not None:
        initial["rate_plan"] = plan
    bound = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    form = ImportForm(*bound, tenant=tenant, kind=kind, initial=initial)
    if request.method == "POST" and form.is_valid():
        # Uploads left without Apply or Cancel are forgotten after a day.
        ImportUpload.objects.filter(
            tenant=tenant, created_at__lt=timezone.now() - UPLOAD_KEPT
        ).delete()
        upload = form.cleaned_data["file"]
        data = upload.read()
        rate_plan = form.cleaned_data.get("rate_plan")
        mode = form.cleaned_data["mode"]
        result = run_import(
            tenant, kind, upload.name, data, mode=mode, rate_plan=rate_plan, user=request.user
        )
        stored = ImportUpload.objects.create(
            tenant=tenant,
            user=request.user,
            kind=kind.key,
            mode=mode,
            rate_plan=rate_plan,
            filename=upload.name[:200],
            content=data if result.ok else b"",
            fingerprint=result.fingerprint(),
            preview=result.as_dict(),
        )
        return redirect("vmgate:importupload_detail", pk=stored.pk)
    plan_obj = None
    if initial.get("rate_plan"):
        plan_obj = scoped(RatePlan, tenant).filter(pk=initial["rate_plan"]).first()
    context = {
        "breadcrumbs": crumbs(request, kind, plan_obj, (f"Import {kind.plural}", "")),
        "form": form,
        "kind": kind,
        "list_url": list_url(kind, initial.get("rate_plan")),
        "columns": kind.column_names,
        "optional": sorted(kind.optional_columns),
    }
    return render(request, "vmgate/import_form.html", context)


def _upload(request, pk):
    tenant = require_operator(request)
    return tenant, get_object_or_404(ImportUpload, pk=pk, tenant=tenant)


def _expired(upload):
    return timezone.now() - upload.created_at > IMPORT_UPLOAD_TTL


@require_http_methods(["GET"])
def import_preview(request, pk):
    tenant, upload = _upload(request, pk)
    kind = _kind_or_404(upload.kind)
    preview = upload.preview
    import_url = reverse("vmgate:importupload_add", args=[kind.key])
    if upload.rate_plan_id:
        import_url += f"?rate_plan={upload.rate_plan_id}"
    context = {
        "breadcrumbs": crumbs(
            request,
            kind,
            upload.rate_plan,
            (f"Import {kind.plural}", import_url),
            (f"Preview of {upload.filename}", ""),
        ),
        "import_url": import_url,
        "upload": upload,
        "kind": kind,
        "preview": preview,
        "expired": _expired(upload),
        "list_url": list_url(kind, upload.rate_plan_id),
        "can_apply": not preview.get("errors_total") and not _expired(upload),
        "actions": [
            (action, label, preview.get("counts", {}).get(action, 0))
            for action, label in (
                ("create", "to create"),
                ("update", "to update"),
                ("delete", "to delete"),
                ("unchanged", "unchanged"),
                ("error", "with errors"),
            )
        ],
    }
    return render(request, "vmgate/import_preview.html", context)


def _restage(request, upload, kind, warning):
    """Preview the kept file again (the old preview no longer holds) and show it."""
    result = run_import(
        upload.tenant,
        kind,
        upload.filename,
        bytes(upload.content),
        mode=upload.mode,
        rate_plan=upload.rate_plan,
        user=request.user,
    )
    upload.preview = result.as_dict()
    upload.fingerprint = result.fingerprint()
    upload.created_at = timezone.now()
    if not result.ok:
        upload.content = b""
    upload.save()
    messages.warning(request, warning)
    return redirect("vmgate:importupload_detail", pk=upload.pk)


@require_POST
def import_apply(request, pk):
    tenant, upload = _upload(request, pk)
    kind = _kind_or_404(upload.kind)
    if upload.preview.get("errors_total") or not upload.content:
        messages.error(request, "This file has errors: fix them and upload it again.")
        return redirect("vmgate:importupload_detail", pk=upload.pk)
    if _expired(upload):
        return _restage(
            request,
            upload,
            kind,
            "That preview was more than an hour old, so nothing was applied. Here is the file "
            "previewed again against the data as it is now: check it, then apply.",
        )
    result = run_import(
        tenant,
        kind,
        upload.filename,
        bytes(upload.content),
        mode=upload.mode,
        rate_plan=upload.rate_plan,
        apply=True,
        user=request.user,
        expect=upload.fingerprint,
    )
    if not result.applied:
        return _restage(
            request,
            upload,
            kind,
            "The data changed since the preview, so nothing was applied. Here is the file "
            "previewed again against the data as it is now: check it, then apply.",
        )
    upload.delete()
    messages.success(
        request,
        format_html(
            '{}. <a href="{}">Details</a>',
            result.summary(),
            reverse("vmgate:importrun_detail", args=[result.run_id]),
        ),
    )
    return redirect(list_url(kind, upload.rate_plan_id))


@require_POST
def import_cancel(request, pk):
    _, upload = _upload(request, pk)
    kind = _kind_or_404(upload.kind)
    back = list_url(kind, upload.rate_plan_id)
    upload.delete()
    messages.info(request, f"Import of {upload.filename} cancelled: nothing was written.")
    return redirect(back)


@require_http_methods(["GET"])
def import_run(request, pk):
    tenant = tenant_or_404(request)
    run = get_object_or_404(ImportRun.objects.select_related("user"), pk=pk, tenant=tenant)
    kind = KINDS.get(run.kind)
    request.sidebar_section = "vmgate:changelog"
    context = {
        "breadcrumbs": [
            ("Home", reverse("home")),
            ("Change log", reverse("vmgate:changelog")),
            (run.summary, ""),
        ],
        "run": run,
        "kind": kind,
        "list_url": list_url(kind) if kind is not None and not kind.needs_rate_plan else "",
    }
    return render(request, "vmgate/import_run.html", context)
