"""FilterSets for the API: the UI's ``<app>/filtersets.py`` classes (one per model, reused).

``filterset_for("customers", "Trunk")`` returns ``customers.filtersets.TrunkFilterSet``.
A model whose app has no FilterSet for it gets :func:`basic_filterset`: exact filters on
its choice, boolean and foreign-key fields, foreign keys limited to the request's tenant.
"""

import importlib

import django_filters
from django.apps import apps
from django.db import models

from vmgate.tenancy import is_tenant_model, scoped


def _tenant_queryset(model):
    def queryset(request):
        if request is None:
            return model._default_manager.none()
        return scoped(model, getattr(request, "tenant", None))

    return queryset


def basic_filterset(model):
    attrs = {}
    for field in model._meta.get_fields():
        if not getattr(field, "concrete", False) or field.name == "tenant":
            continue
        if isinstance(field, models.ForeignKey) and is_tenant_model(field.related_model):
            attrs[field.name] = django_filters.ModelChoiceFilter(
                queryset=_tenant_queryset(field.related_model)
            )
        elif isinstance(field, models.BooleanField) or (
            field.choices and isinstance(field, models.CharField)
        ):
            if field.choices:
                attrs[field.name] = django_filters.ChoiceFilter(choices=field.choices)
            else:
                attrs[field.name] = django_filters.BooleanFilter()
    meta = type("Meta", (), {"model": model, "fields": list(attrs)})
    return type(f"{model.__name__}FilterSet", (django_filters.FilterSet,), {**attrs, "Meta": meta})


def filterset_for(app_label, model_name):
    model = apps.get_model(app_label, model_name)
    try:
        module = importlib.import_module(f"{app_label}.filtersets")
    except ModuleNotFoundError as exc:
        if exc.name != f"{app_label}.filtersets":
            raise
        module = None
    found = getattr(module, f"{model_name}FilterSet", None) if module else None
    return found or basic_filterset(model)
