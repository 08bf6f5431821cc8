"""``{% test_call_url trunk=… code=… %}``: the Test call page opened pre-filled."""

from django import template

from routing.testcall import prefill_url

register = template.Library()


@register.simple_tag
def test_call_url(trunk=None, code=None, called_number="", source_ip="", at=None):
    """With ``code`` (a rule's code), the number is the trunk's tech prefix and the code:
    what a call for that destination looks like as it arrives on the trunk."""
    if code is not None and trunk is not None:
        called_number = f"{trunk.tech_prefix}{code}"
    return prefill_url(trunk=trunk, called_number=called_number, source_ip=source_ip, at=at)
