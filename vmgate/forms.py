"""TenantModelForm: every choice field is narrowed to the form's tenant, automatically."""

from crispy_forms.helper import FormHelper
from django import forms
from django.db import IntegrityError  # noqa: F401  (re-exported for views)

from vmgate.tenancy import is_tenant_model, scoped


class TenantModelForm(forms.ModelForm):
    """A ModelForm bound to one tenant.

    - Every ModelChoiceField over a tenant model is scoped to the tenant (fail closed: the
      ``tenant`` argument is required), so a forged id of another tenant fails as
      "Select a valid choice".
    - The instance gets the tenant before validation, and ``tenant`` is validated like any
      field, so unique constraints that include it are checked (a ModelForm would skip them).
    """

    def __init__(self, *args, tenant, **kwargs):
        if tenant is None:
            raise ValueError("TenantModelForm needs a tenant")
        self.tenant = tenant
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            qs = getattr(field, "queryset", None)
            if qs is not None and is_tenant_model(qs.model):
                field.queryset = scoped(qs, tenant)
        if hasattr(self.instance, "tenant_id") and type(self.instance).tenant_path == "tenant":
            self.instance.tenant = tenant
        if not hasattr(type(self), "helper") and "helper" not in vars(self):
            # generic/object_form.html owns the <form> tag and the CSRF token.
            self.helper = FormHelper()
            self.helper.form_tag = False
            self.helper.disable_csrf = True

    def _get_validation_exclusions(self):
        exclude = super()._get_validation_exclusions()
        exclude.discard("tenant")
        return exclude


class HighlightErrorsMixin:
    """For forms a template renders field by field (formset and target rows), where crispy
    does not: a field with an error gets Bootstrap's ``is-invalid`` class, so it is
    highlighted next to its message."""

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                classes = widget.attrs.get("class", "").split()
                if "is-invalid" not in classes:
                    widget.attrs["class"] = " ".join([*classes, "is-invalid"])
