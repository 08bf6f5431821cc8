"""Every form of the portal, as a person sees it: an empty submit and one invalid value per
field kind (text, number, select, searchable select, dependent select, inline row), and
each error message *visible* next to its field.

The forms are found by walking the URL configuration (names ending ``_add`` or ``_edit``,
plus the test call): a new form URL fails ``test_every_form_url_is_covered`` until a case
is written for it here. Screenshots of each form with its errors, at 1400×900 and at
390×844 (a phone), go to screenshots/forms-*.png.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from playwright.sync_api import Error as PlaywrightError

from dialpeers.models import Dialpeer
from routing.models import RoutingCheck, RoutingRule, RoutingTarget
from tests.e2e import selects
from tests.e2e.htmx import settled
from tests.factories import (
    CustomerFactory,
    DialpeerFactory,
    NetworkFactory,
    NumberListEntryFactory,
    NumberListFactory,
    RateFactory,
    RatePlanFactory,
    RoutingCheckFactory,
    RoutingRuleFactory,
    RoutingTargetFactory,
    ScheduleFactory,
    ScheduleWindowFactory,
    SimSlotFactory,
    TranslationRuleFactory,
    TranslationSetFactory,
    TrunkFactory,
    TrunkNetworkFactory,
    VMGateClientFactory,
)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 900}
SUBMIT = "main form[method=post] button[type=submit].btn-primary"


# What a person does --------------------------------------------------------------------
def fill(name, value):
    def act(page):
        page.fill(f"main [name='{name}']", value)

    return act


def clear_all(page):
    """Empty every text and number box of the form (an "empty submit" of an edit page)."""
    boxes = page.locator(
        "main form [name]:is(input[type=text], input[type=number], input[type=email],"
        " input:not([type]), textarea):visible"
    )
    for i in range(boxes.count()):
        boxes.nth(i).fill("")


def select(name, value):
    def act(page):
        page.select_option(f"main [name='{name}']", value)

    return act


def clear_search_select(select_id):
    def act(page):
        page.eval_on_selector(f"#{select_id}", "s => s.tomselect.clear()")

    return act


# What a person must see ----------------------------------------------------------------
FEEDBACK_NEXT_TO = """name => {
  const el = document.querySelector(`main [name="${CSS.escape(name)}"]`);
  if (!el) return null;
  const box = el.closest('[id^="div_id_"], td, .flex-grow-1, [class*="col-"], .mb-3');
  return box ? box.querySelector('.invalid-feedback') : null;
}"""


def error_next_to(page, name):
    """The error message shown in the field's own box (label, control, message), once
    htmx has settled (before, the re-rendered field may still wear its old classes)."""
    settled(page)
    handle = page.evaluate_handle(FEEDBACK_NEXT_TO, name).as_element()
    assert handle is not None, f"no error message next to field {name!r}"
    assert handle.is_visible(), f"the error of {name!r} is hidden: {handle.text_content()!r}"
    text = handle.inner_text().strip()
    assert text, f"the error of {name!r} is empty"
    return text


def assert_every_error_visible(page):
    """No error text hidden anywhere; every highlighted control has its visible message."""
    settled(page)
    feedback = page.locator("main .invalid-feedback")
    for i in range(feedback.count()):
        item = feedback.nth(i)
        assert item.is_visible(), f"hidden error message: {item.text_content()!r}"
    for alert in page.locator("main .alert-danger").all():
        assert alert.is_visible()
    names = page.eval_on_selector_all(
        "main .is-invalid[name]", "els => els.map(e => e.getAttribute('name'))"
    )
    for name in names:
        error_next_to(page, name)


PLACEHOLDER_FITS = """e => {
  const cs = getComputedStyle(e);
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = cs.font;
  const room = e.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  return ctx.measureText(e.placeholder).width <= room;
}"""


@dataclass
class Case:
    """One form: where it is, how to submit it, which fields an empty submit flags, and
    invalid values by field kind (each: actions, then the field whose message to read,
    and a piece of that message)."""

    url: Callable
    empty: list = field(default_factory=list)
    invalid: dict = field(default_factory=dict)
    submit: str = SUBMIT
    prepare: Callable = None  # run before each submit (e.g. open the add-target row)
    edit: bool = False
    accepts_empty: bool = False  # every field optional or defaulted: the empty form saves


def go(page, case, world):
    page.goto(case.url(world))
    page.wait_for_load_state("networkidle")
    if case.prepare:
        case.prepare(page, world)


def send(page, case):
    page.click(case.submit)
    page.wait_for_load_state("networkidle")
    settled(page)


# The portal's world --------------------------------------------------------------------
@pytest.fixture
def world(tenant):
    acme = CustomerFactory(tenant=tenant, name="Acme Telecom")
    acme_main = TrunkFactory(customer=acme, name="acme-main", tech_prefix="77")
    TrunkNetworkFactory(trunk=acme_main, network="203.0.113.0/24")
    beta = CustomerFactory(tenant=tenant, name="Beta Carrier")
    TrunkFactory(customer=beta, name="beta-1", tech_prefix="")
    TrunkFactory(customer=beta, name="beta-2", tech_prefix="")
    plan = RatePlanFactory(tenant=tenant, name="Retail")
    rate = RateFactory(rate_plan=plan, code="374")
    network = NetworkFactory(tenant=tenant, name="Yerevan")
    client = VMGateClientFactory(network=network, name="gw-1")
    SimSlotFactory(client=client, position=1)
    rule = RoutingRuleFactory(tenant=tenant, code="374")
    target = RoutingTargetFactory(rule=rule, client=client, weight=10)
    dialpeer = DialpeerFactory(trunk=acme_main, rule=rule, name="Acme → Armenia")
    check = RoutingCheckFactory(tenant=tenant, trunk=acme_main, name="Armenia")
    tset = TranslationSetFactory(tenant=tenant, name="National")
    trule = TranslationRuleFactory(translation_set=tset, position=1)
    nlist = NumberListFactory(tenant=tenant, name="Premium")
    entry = NumberListEntryFactory(number_list=nlist, value="900")
    schedule = ScheduleFactory(tenant=tenant, name="Office")
    window = ScheduleWindowFactory(schedule=schedule)
    return {
        "tset": tset,
        "trule": trule,
        "nlist": nlist,
        "entry": entry,
        "schedule": schedule,
        "window": window,
        "acme": acme,
        "acme_main": acme_main,
        "plan": plan,
        "rate": rate,
        "network": network,
        "client": client,
        "rule": rule,
        "target": target,
        "dialpeer": dialpeer,
        "check": check,
    }


def url(name, key=None):
    return lambda w: reverse(name, args=[w[key].pk] if key else [])


def uncheck_all(name):
    def act(page):
        boxes = page.locator(f"main input[type=checkbox][name='{name}']")
        for i in range(boxes.count()):
            boxes.nth(i).uncheck()

    return act


def open_target_row(kind=None):
    def prepare(page, world):
        if kind:
            page.select_option("main select[name=new-kind]", kind)
            page.wait_for_selector(f"#id_new-{kind}-ts-control", state="attached")

    return prepare


CASES = {
    "customers:customer_add": Case(
        url("customers:customer_add"),
        empty=["name"],
        invalid={
            "text": ([fill("email", "not an address")], "email", "email"),
            "number": (
                [select("billing_type", "postpaid"), fill("credit_limit", "-5")],
                "credit_limit",
                "",
            ),
        },
    ),
    "customers:customer_edit": Case(
        url("customers:customer_edit", "acme"), edit=True, empty=["name"]
    ),
    "customers:balanceentry_add": Case(
        url("customers:balanceentry_add", "acme"),
        empty=["amount"],
        invalid={"number": ([fill("amount", "12.345")], "amount", "")},
    ),
    "customers:trunk_add": Case(
        url("customers:trunk_add"),
        empty=["customer", "name"],
        invalid={
            "text": ([fill("tech_prefix", "7a")], "tech_prefix", ""),
            "number": ([fill("max_concurrent_calls", "-1")], "max_concurrent_calls", ""),
            "inline row": (
                [fill("networks-0-network", "198.51.100.7/24")],
                "networks-0-network",
                "198.51.100.0/24",
            ),
        },
    ),
    "customers:trunk_edit": Case(
        url("customers:trunk_edit", "acme_main"),
        edit=True,
        empty=["name"],
        invalid={
            "inline row": ([fill("networks-0-network", "300.1.1.1")], "networks-0-network", "")
        },
    ),
    "customers:rateplan_add": Case(url("customers:rateplan_add"), empty=["name"]),
    "customers:rateplan_edit": Case(
        url("customers:rateplan_edit", "plan"), edit=True, empty=["name"]
    ),
    "customers:rate_add": Case(
        url("customers:rate_add", "plan"),
        empty=["rate_per_min"],
        invalid={
            "text": ([fill("code", "37a")], "code", ""),
            "number": ([fill("rate_per_min", "-1")], "rate_per_min", ""),
        },
    ),
    "customers:rate_edit": Case(
        url("customers:rate_edit", "rate"), edit=True, empty=["rate_per_min"]
    ),
    "routing:network_add": Case(url("routing:network_add"), empty=["name"]),
    "routing:network_edit": Case(url("routing:network_edit", "network"), edit=True, empty=["name"]),
    "routing:vmgateclient_add": Case(
        url("routing:vmgateclient_add"),
        empty=["name", "node_id", "network"],
        invalid={
            "number": ([fill("active_calls", "-1")], "active_calls", ""),
            "inline row": (
                [fill("slots-1-position", "1")],
                "slots-1-position",
                "already listed",
            ),
        },
    ),
    "routing:vmgateclient_edit": Case(
        url("routing:vmgateclient_edit", "client"), edit=True, empty=["name", "node_id"]
    ),
    "routing:routingrule_add": Case(
        url("routing:routingrule_add"),
        accepts_empty=True,  # an empty code is the catch-all for all trunks: a valid rule
        invalid={"text": ([fill("code", "37x")], "code", "")},
    ),
    "routing:routingrule_edit": Case(
        url("routing:routingrule_edit", "rule"),
        edit=True,
        accepts_empty=True,  # emptied, the rule becomes a catch-all: valid here
        invalid={"text": ([fill("code", "abc")], "code", "")},
    ),
    "routing:routingtarget_add": Case(
        url("routing:routingrule_targets", "rule"),
        submit="[data-testid=target-add-row] button[type=submit]",
        empty=["new-kind"],
        invalid={
            "inline row (searchable select)": (
                [lambda p: open_target_row("client")(p, None)],
                "new-client",
                "",
            )
        },
    ),
    "routing:routingtarget_edit": Case(
        url("routing:routingrule_targets", "rule"),
        submit="[data-testid=target-row] button[type=submit]",
        edit=True,
        invalid={
            "number": (
                [lambda p: p.fill("[data-testid=target-row] input[name$=-weight]", "0")],
                None,
                "",
            )
        },
    ),
    # routing policy (SPEC §9)
    "routing:translationset_add": Case(url("routing:translationset_add"), empty=["name"]),
    "routing:translationset_edit": Case(
        url("routing:translationset_edit", "tset"), edit=True, empty=["name"]
    ),
    "routing:translationrule_add": Case(
        url("routing:translationrule_add", "tset"),
        empty=["match"],
        invalid={
            "text (catastrophic pattern)": ([fill("match", "(0+)+1")], "match", "backtrack"),
            "text (replacement)": (
                [fill("match", "0([0-9]+)"), fill("replace", "+\\1")],
                "replace",
                "digits only",
            ),
            "number": ([fill("position", "0")], "position", ""),
        },
    ),
    "routing:translationrule_edit": Case(
        url("routing:translationrule_edit", "trule"),
        edit=True,
        empty=["match"],
        invalid={"text": ([fill("match", r"(0)\1")], "match", "Backreferences")},
    ),
    "routing:numberlist_add": Case(url("routing:numberlist_add"), empty=["name"]),
    "routing:numberlist_edit": Case(
        url("routing:numberlist_edit", "nlist"), edit=True, empty=["name"]
    ),
    "routing:numberlistentry_add": Case(
        url("routing:numberlistentry_add", "nlist"),
        empty=["value"],
        invalid={
            "text": ([fill("value", "90a1")], "value", "digits"),
        },
    ),
    "routing:numberlistentry_edit": Case(
        url("routing:numberlistentry_edit", "entry"), edit=True, empty=["value"]
    ),
    "routing:schedule_add": Case(
        url("routing:schedule_add"),
        empty=["name"],
        invalid={"text": ([fill("timezone", "Mars/Olympus")], "timezone", "IANA")},
    ),
    "routing:schedule_edit": Case(
        url("routing:schedule_edit", "schedule"), edit=True, empty=["name", "timezone"]
    ),
    "routing:schedulewindow_add": Case(
        url("routing:schedulewindow_add", "schedule"),
        empty=["start", "end"],
        invalid={
            "checkboxes": (
                [uncheck_all("weekdays"), fill("start", "09:00"), fill("end", "17:00")],
                "weekdays",
                "Choose at least one weekday",
            )
        },
    ),
    "routing:schedulewindow_edit": Case(
        url("routing:schedulewindow_edit", "window"),
        edit=True,
        invalid={
            "checkboxes": ([uncheck_all("weekdays")], "weekdays", "Choose at least one weekday")
        },
        accepts_empty=True,  # its boxes are time inputs and checkboxes: nothing to empty
    ),
    "routing:test_call": Case(
        url("routing:test_call"),
        submit="#test-call-form button[type=submit]",
        empty=["called_number"],
        invalid={"text": ([fill("source_ip", "999.1.1.1")], "source_ip", "")},
    ),
    "routing:routingcheck_add": Case(
        url("routing:routingcheck_add"),
        empty=["name", "called_number"],
        invalid={"text": ([fill("source_ip", "not-an-ip")], "source_ip", "")},
    ),
    "routing:routingcheck_edit": Case(
        url("routing:routingcheck_edit", "check"), edit=True, empty=["name", "called_number"]
    ),
    "dialpeers:dialpeer_add": Case(
        url("dialpeers:dialpeer_add"),
        empty=["name", "customer", "trunk", "rule"],
        invalid={
            "searchable select": (
                [lambda p: selects.pick(p, "id_customer", "Beta Carrier", text="beta")],
                "rule",
                "required",
            ),
            "dependent select": (
                [lambda p: selects.pick(p, "id_customer", "Beta Carrier", text="beta")],
                "trunk",
                "required",
            ),
        },
    ),
    "dialpeers:dialpeer_edit": Case(
        url("dialpeers:dialpeer_edit", "dialpeer"),
        edit=True,
        empty=["name"],
        invalid={"searchable select": ([clear_search_select("id_rule")], "rule", "required")},
    ),
    "vmgate:importupload_add": Case(
        lambda w: reverse("vmgate:importupload_add", args=["rates"]) + f"?rate_plan={w['plan'].pk}",
        empty=["file"],
        invalid={"select": ([select("rate_plan", "")], "rate_plan", "required")},
    ),
    "vmgate:apitoken_add": Case(
        url("vmgate:apitoken_list"),
        submit="form[action$='/tokens/add/'] button[type=submit]",
        empty=["name"],
    ),
}


# The URL walk ----------------------------------------------------------------------------
def form_url_names():
    def walk(patterns, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, p.namespace or namespace)
            elif isinstance(p, URLPattern) and p.name:
                yield f"{namespace}:{p.name}" if namespace else p.name

    return {
        name
        for name in walk(get_resolver().url_patterns, None)
        if not name.startswith(("admin:", "api:"))
        and (name.endswith(("_add", "_edit")) or name == "routing:test_call")
    }


def test_every_form_url_is_covered():
    found = form_url_names()
    assert found, "the URL walk found no form"
    missing = found - set(CASES)
    assert not missing, f"forms without a browser test of their errors: {sorted(missing)}"
    assert not set(CASES) - found, "cases for URLs that no longer exist"


# The browser tests -------------------------------------------------------------------------
def shoot(page, shot, name):
    shot(page, f"forms-{name}")
    page.set_viewport_size(PHONE)
    shot(page, f"forms-{name}-phone")
    page.set_viewport_size(DESKTOP)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_form_errors_are_visible_next_to_their_fields(page, login, shot, operator, world, name):
    case = CASES[name]
    slug = name.replace(":", "-")
    login("op-a")

    go(page, case, world)
    form_address = page.url
    if case.edit:
        clear_all(page)
    send(page, case)
    if case.accepts_empty:
        assert page.url != form_address and page.locator("main .is-invalid").count() == 0
    else:
        errors = page.locator("main .is-invalid, main .alert-danger, main .invalid-feedback")
        assert errors.count() >= 1
        for field_name in case.empty:
            error_next_to(page, field_name)
        assert_every_error_visible(page)
        shoot(page, shot, f"{slug}-empty")

    for kind, (actions, field_name, words) in case.invalid.items():
        go(page, case, world)
        for act in actions:
            act(page)
        address = page.url
        send(page, case)
        if field_name is not None:
            message = error_next_to(page, field_name)
            assert words.lower() in message.lower(), (kind, message)
        else:
            assert page.locator("main .invalid-feedback").count() >= 1, kind
        assert_every_error_visible(page)
        if "searchable" in kind or "dependent" in kind:
            assert page.url == address or page.url.split("?")[0] == address.split("?")[0]
        shoot(page, shot, f"{slug}-{kind.split()[0]}")


# The dialpeer refusals name the other dialpeer, on screen ------------------------------------
@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_same_code_and_duplicate_refusals_read_on_screen_naming_the_other_dialpeer(
    page, login, shot, operator, world, tenant
):
    same_code = RoutingRuleFactory(tenant=tenant, code="374", trunk=world["acme_main"])
    RoutingTargetFactory(rule=same_code, client=world["client"])
    login("op-a")

    def attempt(name, rule_label, rule_text):
        page.goto(reverse("dialpeers:dialpeer_add"))
        page.fill("#id_name", name)
        selects.pick(page, "id_customer", "Acme Telecom", text="acme")
        # Acme has one trunk: it is picked for you.
        page.wait_for_function(
            f"document.querySelector('#id_trunk').value === '{world['acme_main'].pk}'"
        )
        selects.pick(page, "id_rule", rule_label, text=rule_text)
        page.click(SUBMIT)
        page.wait_for_load_state("networkidle")

    # Another rule with the same code on the same trunk: refused under the rule field.
    attempt("Acme → Armenia 2", "374 — Armenia (trunk Acme Telecom / acme-main)", "374")
    message = error_next_to(page, "rule")
    assert selects.chosen(page, "id_rule") == "374 — Armenia (trunk Acme Telecom / acme-main)"
    assert "Acme → Armenia" in message and "374" in message and "acme-main" in message
    assert_every_error_visible(page)
    shoot(page, shot, "dialpeer-same-code-refused")

    # The very same combination: refused, naming (and linking) the existing dialpeer.
    attempt("Acme → Armenia again", "374 — Armenia", "Armenia")
    alert = page.locator("main .alert-danger", has_text="already links")
    assert alert.is_visible()
    link = alert.locator("a", has_text="Acme → Armenia")
    assert link.is_visible()
    assert link.get_attribute("href") == world["dialpeer"].get_absolute_url()
    assert_every_error_visible(page)
    shoot(page, shot, "dialpeer-duplicate-refused")
    assert Dialpeer.objects.filter(tenant=tenant).count() == 1


# The searchable select itself ----------------------------------------------------------------
@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_searchable_select_filters_as_you_type_picks_by_keyboard_and_keeps_the_address(
    page, login, operator, world, tenant
):
    for code in ("3741", "3742", "39", "44"):
        RoutingRuleFactory(tenant=tenant, code=code)
    login("op-a")
    page.goto(reverse("dialpeers:dialpeer_add"))
    address = page.url
    seen = []
    page.on("framenavigated", lambda frame: seen.append(frame.url))

    # Typing filters (the endpoint searches codes by prefix).
    selects.search(page, "id_rule", "374")
    assert selects.options(page, "id_rule") == ["374 — Armenia", "3741 — Armenia", "3742 — Armenia"]
    selects.control(page, "id_rule").press_sequentially("1")
    selects.settled(page, "id_rule", "3741")
    assert selects.options(page, "id_rule") == ["3741 — Armenia"]
    selects.control(page, "id_rule").press("Backspace")
    selects.settled(page, "id_rule", "374")
    # Arrow keys move through the options, Enter picks.
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert selects.chosen(page, "id_rule") == "3742 — Armenia"
    assert page.url == address and seen == []

    # Picking a customer with exactly one trunk picks the trunk; with two it does not.
    selects.pick(page, "id_customer", "Acme Telecom", text="acme")
    page.wait_for_function("document.querySelector('#id_trunk').value !== ''")
    assert selects.chosen(page, "id_trunk") == "acme-main (prefix 77)"
    selects.pick(page, "id_customer", "Beta Carrier", text="beta")
    page.wait_for_function("document.querySelector('#id_trunk').value === ''")
    assert sorted(selects.offered_after_focus(page, "id_trunk")) == ["beta-1", "beta-2"]
    assert page.url == address and seen == []


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_test_call_picks_the_only_trunk_and_highlights_a_bad_source_ip(
    page, login, shot, operator, world
):
    login("op-a")
    page.goto(reverse("routing:test_call"))
    selects.pick(page, "id_customer", "Acme Telecom", text="acme")
    page.wait_for_function(
        f"document.querySelector('#id_trunk').value === '{world['acme_main'].pk}'"
    )
    page.fill("main [name=called_number]", "77374123")
    page.fill("main [name=source_ip]", "999.1.1.1")
    page.click("#test-call-form button[type=submit]")
    page.wait_for_selector("[data-testid=form-invalid]")
    assert "source" in error_next_to(page, "source_ip").lower() or error_next_to(page, "source_ip")
    assert page.locator("main [name=source_ip].is-invalid").count() == 1
    assert_every_error_visible(page)
    # The call-time box shows its whole example.
    assert page.locator("main [name=at]").evaluate(PLACEHOLDER_FITS), "call time is cut"
    page.fill("main [name=source_ip]", "")
    page.click("#test-call-form button[type=submit]")
    page.get_by_test_id("outcome").wait_for()
    settled(page)
    # The fixed form no longer shows the old error.
    assert page.locator("main [name=source_ip].is-invalid").count() == 0
    assert RoutingCheck.objects.count() == 1 and RoutingTarget.objects.count() == 1
    assert RoutingRule.objects.count() == 1


# The portal's own Content-Security-Policy (no 'unsafe-inline') -----------------------------
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(
  e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber
));
"""


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_searchable_select_raises_no_csp_violation(browser, live_server, operator, world):
    # The e2e contexts bypass the CSP; this one does not. The portal's enforced policy is
    # turned into report-only, so the test's own wait_for_function (Playwright evaluates it
    # with eval) still runs while every inline style, inline script or handler the page or
    # Tom Select produces is reported (a style attribute set from script shows up here as
    # "style-src-attr inline").
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    context.add_init_script(RECORD_VIOLATIONS)
    policies = []

    def report_only(route):
        if not route.request.url.startswith(live_server.url):
            return route.abort()
        try:
            response = route.fetch()
            headers = dict(response.headers)
            policy = headers.pop("content-security-policy", None)
            if policy is not None:  # pages carry it; static files need none
                policies.append(policy)
                headers["content-security-policy-report-only"] = policy
            route.fulfill(response=response, headers=headers)
        except PlaywrightError:  # the page moved on while this response was in flight
            pass

    context.route("**/*", report_only)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("input[name=username]", "op-a")
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_url("**/")

    page.goto(reverse("dialpeers:dialpeer_add"))
    selects.pick(page, "id_customer", "Acme Telecom", text="acme")
    page.wait_for_function(
        f"document.querySelector('#id_trunk').value === '{world['acme_main'].pk}'"
    )
    selects.pick(page, "id_rule", "374 — Armenia", text="374")
    page.click(SUBMIT)  # the duplicate refusal, with every field's state rendered again
    page.wait_for_load_state("networkidle")
    assert selects.chosen(page, "id_rule") == "374 — Armenia"
    violations = page.evaluate("window.__cspViolations")
    page.goto(reverse("routing:test_call"))
    selects.pick(page, "id_customer", "Acme Telecom", text="acme")
    page.fill("main [name=called_number]", "77374123")
    page.click("#test-call-form button[type=submit]")
    page.get_by_test_id("outcome").wait_for()
    violations += page.evaluate("window.__cspViolations")
    context.close()
    assert policies and not any("unsafe-inline" in p for p in policies)
    assert violations == []
