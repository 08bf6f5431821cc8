"""SearchSelect renders only the selected option, whatever the size of its table."""

import re
from html import unescape

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext

from routing.models import RoutingRule
from tests.factories import RoutingRuleFactory
from vmgate.widgets import SearchSelect

pytestmark = pytest.mark.django_db


class RuleForm(forms.Form):
    rule = forms.ModelChoiceField(
        queryset=RoutingRule.objects.all(),
        widget=SearchSelect("routing:rule_options", include=["trunk"], reload_on=["trunk"]),
    )


def options(html):
    return re.findall(r'<option value="([^"]*)"( selected)?', html)


def test_an_unbound_search_select_renders_only_the_empty_option_without_a_query(tenant):
    for i in range(20):
        RoutingRuleFactory(tenant=tenant, code=f"{300 + i}")
    with CaptureQueriesContext(connection) as queries:
        html = str(RuleForm()["rule"])
    assert options(html) == [("", " selected")]
    assert len(queries) == 0


def test_a_search_select_renders_the_selected_option_with_one_query(tenant):
    rules = [RoutingRuleFactory(tenant=tenant, code=f"{300 + i}") for i in range(20)]
    chosen = rules[7]
    with CaptureQueriesContext(connection) as queries:
        html = str(RuleForm(initial={"rule": chosen.pk})["rule"])
    assert options(html) == [("", ""), (str(chosen.pk), " selected")]
    assert "307 — " in html or ">307<" in html
    assert len(queries) == 1


@pytest.mark.parametrize("garbage", ["abc", "\x00", "-1", "1.5", "99999999999999999999999"])
def test_a_bound_search_select_with_garbage_renders_without_failing(tenant, garbage):
    form = RuleForm(data={"rule": garbage})
    assert not form.is_valid()
    assert [value for value, _ in options(str(form["rule"]))] == [""]


def test_the_select_carries_its_endpoint_and_the_fields_it_follows():
    html = unescape(str(RuleForm()["rule"]))
    select = re.search(r"<select[^>]*>", html).group(0)
    assert "data-search-select" in select
    assert 'data-url="/routing/options/rules/"' in select
    assert 'data-include="trunk"' in select
    assert 'data-reload-on="trunk"' in select
    # A required field offers no empty choice; an optional one keeps it pickable.
    assert 'data-allow-empty="0"' in select
    # One control: no search box of its own, no htmx attribute that could push a URL.
    assert "<input" not in html and "hx-" not in html


def test_an_optional_field_keeps_its_empty_choice_and_a_dependent_one_may_pick_alone():
    widget = SearchSelect("customers:trunk_options", reload_on=["customer"], pick_single=True)
    widget.is_required = False
    html = widget.render("trunk", None, attrs={"id": "id_trunk"})
    assert 'data-allow-empty="1"' in html
    assert 'data-pick-single="1"' in html


def test_min_chars_holds_back_short_searches():
    widget = SearchSelect("routing:rule_options", min_chars=2)
    html = widget.render("rule", None, attrs={"id": "id_rule"})
    assert 'data-min-chars="2"' in html


def test_params_are_added_to_the_endpoint_url():
    widget = SearchSelect("routing:rule_options", params={"all": "1"})
    html = widget.render("rule", None, attrs={"id": "id_rule"})
    assert 'data-url="/routing/options/rules/?all=1"' in html


def test_without_an_endpoint_every_option_is_rendered_and_filtered_in_the_browser():
    widget = SearchSelect(choices=[("am", "Armenia"), ("it", "Italy")])
    html = widget.render("country", "it", attrs={"id": "id_country"})
    assert "data-url" not in html and "data-search-select" in html
    assert options(html) == [("am", ""), ("it", " selected")]
