"""OpenAPI post-processing: document the error answers every operation can give.

drf-spectacular describes the success answers; clients (and schemathesis) also need the
refusals: 400 field errors, 401/403 authentication and role, 404 missing (or another
tenant's) object, 409 refused delete.

It also states constraints the API enforces that drf-spectacular leaves out: ids (in paths,
filters and bodies) are ≥ 1, and no string may hold a NUL character (Django refuses it).
"""

import re

ERROR_SCHEMA = {
    "type": "object",
    "description": "An error: ``detail`` for request-level errors, or field name → messages "
    "(``non_field_errors`` for errors of the whole object).",
    "additionalProperties": True,
}

ERRORS = {
    "400": "Invalid request: field errors (field name → list of messages).",
    "401": "No or invalid credentials.",
    "403": "Not allowed (no tenant, a viewer writing, or a missing CSRF token).",
    "404": "No such object in this tenant.",
    "405": "Method not allowed.",
    "406": "Not acceptable.",
    "409": "Refused delete: the object is still in use.",
    "415": "Unsupported media type: send application/json.",
}


def _blank_or_pattern(node):
    """``oneOf: [{pattern P}, {maxLength: 0}]`` where P already accepts "" would match ""
    twice (invalid under oneOf): keep the pattern alone."""
    if isinstance(node, dict):
        one_of = node.get("oneOf")
        if (
            isinstance(one_of, list)
            and len(one_of) == 2
            and one_of[1] == {"type": "string", "maxLength": 0}
            and "pattern" in one_of[0]
            and re.search(one_of[0]["pattern"], "")
        ):
            del node["oneOf"]
            node.update(one_of[0])
        for value in node.values():
            _blank_or_pattern(value)
    elif isinstance(node, list):
        for value in node:
            _blank_or_pattern(value)


NO_NUL = "^[^\\x00]*$"
ID = {"type": "integer", "minimum": 1}


def _state_constraints(node):
    """Every plain string refuses NUL; an enum of strings is typed string (django-filter
    labels some choice filters integer)."""
    if isinstance(node, dict):
        enum = node.get("enum")
        if enum and node.get("type") == "integer" and all(isinstance(v, str) for v in enum):
            node["type"] = "string"
        if (
            node.get("type") == "string"
            and "enum" not in node
            and "pattern" not in node
            and "format" not in node
        ):
            node["pattern"] = NO_NUL
        for value in node.values():
            _state_constraints(value)
    elif isinstance(node, list):
        for value in node:
            _state_constraints(value)


def add_error_responses(result, generator, request, public):
    _blank_or_pattern(result.get("components", {}))
    _state_constraints(result.get("components", {}))
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for param in operation.get("parameters", []):
                if param.get("in") == "path" and param.get("name") == "id":
                    param["schema"] = dict(ID)
                schema = param.get("schema", {})
                if schema == {"type": "integer"}:  # every plain integer filter is an id
                    param["schema"] = dict(ID)
                _state_constraints(param)
            for code, text in ERRORS.items():
                if code == "409" and method != "delete":
                    continue
                operation["responses"].setdefault(
                    code, {"description": text, "content": {"application/json": {"schema": ref}}}
                )
    return result
