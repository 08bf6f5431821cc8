"""The API's JSON parser: DRF's, with a size and a nesting limit.

A body of 2,000 nested ``[`` made Python's decoder raise RecursionError (a 500 with an HTML
page); a huge body would be read whole into memory. Both are now a 400 with a clear
``detail`` (settings ``API_MAX_BODY_BYTES``, ``API_MAX_JSON_DEPTH``).
"""

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json


def json_depth_exceeds(value, limit):
    """True when ``value`` nests lists/objects more than ``limit`` levels (iterative walk)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        max_depth = settings.API_MAX_JSON_DEPTH
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise ParseError(f"Request body too large: at most {limit} bytes.")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(body.decode(encoding), parse_constant=json.strict_constant)
        except RecursionError as exc:
            raise ParseError(f"JSON nested too deeply: at most {max_depth} levels.") from exc
        except ValueError as exc:  # includes UnicodeDecodeError
            raise ParseError(f"JSON parse error - {exc}") from exc
        if json_depth_exceeds(data, max_depth):
            raise ParseError(f"JSON nested too deeply: at most {max_depth} levels.")
        return data
