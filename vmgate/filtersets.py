"""The base of every list's FilterSet (list pages and the API)."""

import django_filters
from django.forms.utils import pretty_name

from vmgate.tenancy import is_tenant_model, scoped


class TenantFilterSet(django_filters.FilterSet):
    """Scopes every model-choice filter to the request's tenant (fail closed, like the
    forms), and names every empty choice "Any <field>" (never "---------")."""

    def __init__(self, *args, tenant=None, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        tenant = tenant or getattr(request, "tenant", None)
        for name, f in self.filters.items():
            # A field built on the class's filter (the API schema builds them) is copied into
            # every instance: drop it, so this instance's tenant and labels take effect.
            f.__dict__.pop("_field", None)
            qs = f.extra.get("queryset")
            if qs is not None and not callable(qs) and is_tenant_model(qs.model):
                f.extra["queryset"] = scoped(qs, tenant)
                # ModelChoiceFilter.field re-reads its own .queryset into extra: scope it too,
                # or another tenant's id passes the filter's validation.
                if hasattr(f, "queryset"):
                    f.queryset = f.extra["queryset"]
            if isinstance(f, django_filters.ChoiceFilter | django_filters.ModelChoiceFilter):
                label = str(f.label or pretty_name(f.field_name or name))
                if not str(f.extra.get("empty_label") or "").startswith("Any "):
                    f.extra["empty_label"] = f"Any {label[:1].lower()}{label[1:]}"
