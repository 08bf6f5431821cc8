"""Waiting for htmx the way a person's eyes do: after the swap has settled."""


def settled(page):
    """Wait until htmx has finished its requests and settled the swapped-in content.

    Until then a person could see a half-done page, and a fast test could act before
    listeners are bound. Settling matters for what is *shown*: for about 20 ms after a swap
    htmx gives each new element the attributes of the old element with the same id (its
    "attribute settling"), so a field re-rendered with an error still wears its old
    classes, without ``is-invalid``, and Bootstrap hides its message until then."""
    page.wait_for_function(
        "!document.querySelector('.htmx-request, .htmx-added, .htmx-settling, .htmx-swapping')"
    )
