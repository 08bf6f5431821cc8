"""Prefix → destination name ("374" → "Armenia"), from phonenumbers' metadata.

No hand-made tables: the country calling codes and, inside shared codes such as NANP's
"1", each region's leading digits come from phonenumbers; names from django-countries.
"""

import re
from functools import lru_cache

import phonenumbers
from django_countries import countries
from phonenumbers import PhoneMetadata

CATCH_ALL = "* (any)"

#: What a person may type between digits; removed before routing (SPEC §4).
TYPED_SEPARATORS = re.compile(r"[ \t\u00a0-]")


def _region_name(region):
    if region == "001":
        return "International networks"
    return countries.name(region) or region


@lru_cache(maxsize=4096)
def label_for_code(code):
    """A human label for a destination code: ``"374"`` → ``"Armenia"``; ``""`` → ``* (any)``."""
    code = (code or "").strip()
    if not code:
        return CATCH_ALL
    if not code.isascii() or not code.isdigit():
        return ""
    for length in (3, 2, 1):
        cc = code[:length]
        if len(cc) < length:
            continue
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(cc))
        if not regions:
            continue
        rest = code[length:]
        if len(regions) == 1:
            return _region_name(regions[0])
        # Shared calling code (e.g. NANP "1", "7"): narrow by each region's leading digits.
        if rest:
            for region in regions[1:]:
                meta = PhoneMetadata.metadata_for_region(region)
                leading = meta.leading_digits if meta else None
                if leading and re.match(f"(?:{leading})", rest):
                    return _region_name(region)
        if cc == "1" and not rest:
            return "North America (NANP)"
        return _region_name(regions[0])
    return ""
