"""OpenAPI post-processing: every operation documents the errors it can answer."""

ERROR_SCHEMA = {
    "type": "object",
    "description": "A 4xx answer. Validation errors name the field, e.g. targeting.all[2].op.",
    "additionalProperties": True,
}
ERRORS = {
    "400": "The request is invalid; the body says which field and why.",
    "401": "Not authenticated: send a session cookie or `Authorization: Token <key>`.",
    "403": "Authenticated, but not allowed.",
    "404": "No such object among the caller's sites (another owner's objects answer 404 too).",
    "405": "Method not allowed on this path.",
    "415": "Unsupported media type: send application/json.",
}


def error_responses_add(result, generator, request, public):
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, description in ERRORS.items():
                operation["responses"].setdefault(
                    status,
                    {"description": description, "content": {"application/json": {"schema": ERROR_SCHEMA}}},
                )
    return result
