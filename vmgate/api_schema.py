"""OpenAPI post-processing: document the error answers every operation can give.

drf-spectacular describes the success answers; clients (and schemathesis) also need the
refusals: 400 field errors, 401/403 authentication and role, 404 missing (or another
tenant's) object, 409 refused delete.
"""

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


def add_error_responses(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for param in operation.get("parameters", []):
                if param.get("in") == "path" and param.get("name") == "id":
                    param["schema"] = {"type": "integer"}
            for code, text in ERRORS.items():
                if code == "409" and method != "delete":
                    continue
                operation["responses"].setdefault(
                    code, {"description": text, "content": {"application/json": {"schema": ref}}}
                )
    return result
