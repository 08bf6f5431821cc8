"""Driving the portal's searchable select (Tom Select, static/js/search-select.js) the way a
person does: click it, type, pick with the mouse or with arrow keys and Enter."""


def control(page, select_id):
    """The control's own text box (Tom Select names it ``<select id>-ts-control``)."""
    return page.locator(f"#{select_id}-ts-control")


def options(page, select_id):
    """The labels the open dropdown offers, in order."""
    return page.locator(f"#{select_id}-ts-dropdown .option").all_inner_texts()


def box(page, select_id):
    """The visible control (what a person clicks; its text box hides while a value shows)."""
    return page.locator(f"#{select_id}-ts-control").locator("xpath=..")


def search(page, select_id, text):
    """Click the control and type ``text``; returns once the dropdown lists a match.

    As a person does: wait until the control is there (a page just loaded may not have
    set it up yet) and not reloading (a field it depends on just
    changed: the reload may clear what was typed), click, wait for the text cursor (Tom
    Select focuses its input only after a ``setTimeout(0)``), wait for the options the
    focus asked for, then type: keys typed before either were lost on a slow machine
    ("rmentel" for "Armentel")."""
    page.wait_for_function(
        "id => { const s = document.getElementById(id);"
        " return s && s.tomselect && s.tomselect.wrapper.getAttribute('aria-busy') !== 'true'; }",
        arg=select_id,
    )
    box(page, select_id).click()
    page.wait_for_function(
        "id => document.activeElement && document.activeElement.id === id + '-ts-control'",
        arg=select_id,
    )
    # and for the options the focus itself asked for: their arrival refreshes the control,
    # which dropped the first keys typed before it ("mentel", "tal", "")
    settled(page, select_id)
    control(page, select_id).press_sequentially(text)
    settled(page, select_id, text)
    page.locator(f"#{select_id}-ts-dropdown .option").first.wait_for()


def settled(page, select_id, text=""):
    """Wait until the control has searched ``text`` and its options have arrived.

    A click reaches Tom Select's focus handler only after a ``setTimeout(0)`` (its focus()),
    and that handler asks for the options; so first the control must read focused (or its
    dropdown open, which only that handler or typing does), then not
    busy (a remote control reads aria-busy="true" from the moment it is asked, its 250 ms
    throttle included, until the options are in)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(
            "([id, text]) => { const ts = document.getElementById(id).tomselect;"
            " return (ts.isFocused || ts.isOpen) && !ts.refreshTimeout && !ts.loading"
            " && (ts.lastQuery || '') === text"
            " && ts.wrapper.getAttribute('aria-busy') !== 'true'; }",
            arg=[select_id, text],
        )
    except PlaywrightTimeout as timeout:
        raise AssertionError(
            f"{select_id} never settled on {text!r}: {state(page, select_id)}"
        ) from timeout


def state(page, select_id):
    """What ``settled`` waits on, for a failure's message."""
    return page.evaluate(
        "([id]) => { const ts = document.getElementById(id).tomselect; return {"
        " focused: ts.isFocused, open: ts.isOpen, refreshing: !!ts.refreshTimeout,"
        " loading: ts.loading, lastQuery: ts.lastQuery, typed: ts.inputValue(),"
        " busy: ts.wrapper.getAttribute('aria-busy'),"
        " active: document.activeElement && document.activeElement.id}; }",
        [select_id],
    )


def pick(page, select_id, label, *, text=None):
    """Type ``text`` (default: ``label``) and click the option reading ``label``."""
    search(page, select_id, label if text is None else text)
    option = page.locator(f"#{select_id}-ts-dropdown .option", has_text=label).first
    option.click()
    page.wait_for_function(
        "([id, label]) => { const s = document.getElementById(id);"
        " return s.selectedOptions[0] && s.selectedOptions[0].textContent.includes(label); }",
        arg=[select_id, label],
    )


def chosen(page, select_id):
    """The label of the option the form will submit."""
    return page.eval_on_selector(
        f"#{select_id}", "s => s.selectedOptions[0] ? s.selectedOptions[0].textContent : ''"
    )


def offered_after_focus(page, select_id):
    """Open the control without typing and return what it offers once loaded."""
    box(page, select_id).click()
    settled(page, select_id)
    labels = options(page, select_id)
    page.keyboard.press("Escape")
    return labels


def expect_offered(page, select_id, labels):
    """Open the control without typing and wait until it offers exactly ``labels``, in
    order (Playwright's expect retries until the options that arrived read so, or fails
    after its timeout showing what was offered)."""
    from playwright.sync_api import expect

    box(page, select_id).click()
    expect(page.locator(f"#{select_id}-ts-dropdown .option")).to_have_text(labels)
    page.keyboard.press("Escape")
