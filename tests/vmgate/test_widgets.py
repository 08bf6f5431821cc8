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
        widget=SearchSelect("dialpeers:rule_options", include=["trunk"], reload_on=["trunk"]),
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


def test_the_search_box_asks_the_endpoint_with_the_other_named_fields():
    html = unescape(str(RuleForm()["rule"]))
    assert 'hx-get="/dialpeers/options/rules/"' in html
    assert "hx-include=\"#id_rule, [name='trunk']\"" in html
    assert "change from:[name='trunk']" in html
    assert 'hx-target="#id_rule"' in html
    assert "js:{q: this.value}" in html
    # the search box has no name: it never posts with the form or a filter
    search = re.search(r'<input type="text"[^>]*>', html).group(0)
    assert " name=" not in search


def test_min_chars_holds_back_short_searches():
    widget = SearchSelect("dialpeers:rule_options", min_chars=2, load=False)
    html = unescape(widget.render("rule", None, attrs={"id": "id_rule"}))
    assert "input changed delay:250ms[target.value.length >= 2]" in html
    assert "load," not in html


def test_params_are_added_to_the_endpoint_url():
    widget = SearchSelect("dialpeers:rule_options", params={"all": "1"})
    html = widget.render("rule", None, attrs={"id": "id_rule"})
    assert 'hx-get="/dialpeers/options/rules/?all=1"' in html
