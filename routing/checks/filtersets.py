"""The routing checks list filters."""

from django import forms

from routing.filtersets import RoutingCheckFilterSet


class RoutingCheckListFilterSet(RoutingCheckFilterSet):
    """The model's FilterSet (shared with the API) without its trunk select, which would
    render every trunk of the tenant; the search box finds checks by name or number."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters.pop("trunk", None)
        self.filters["last_passed"].field.widget = forms.Select(
            choices=[("", "Any result"), ("true", "Pass"), ("false", "Fail")]
        )
