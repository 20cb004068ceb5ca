"""OpenAPI post-processing: every operation documents its error answers with
their bodies (clinic.api.exception_handler makes them), and role-scoped
fields (clinic.access.FieldPolicy) are optional in responses, since a role
outside the policy does not receive them."""

from __future__ import annotations

from clinic.api import RoleScopedFieldsMixin

STRINGS = {"type": "array", "items": {"type": "string"}}
CODES = {**STRINGS, "description": "Stable codes of the rules broken (clinic.rule_codes), e.g. R2.hours."}

SCHEMAS = {
    "ErrorDetail": {
        "type": "object",
        "properties": {"detail": {"type": "string"}, "codes": CODES},
        "required": ["detail"],
    },
    "ValidationErrors": {
        "type": "object",
        "description": (
            'Field errors: {"field": ["message", …]}; errors of the whole input under '
            '"non_field_errors"; "codes" lists the rules broken. A value the server cannot '
            'represent may answer {"detail": "…"}.'
        ),
        "properties": {"non_field_errors": STRINGS, "detail": {"type": "string"}, "codes": CODES},
        "additionalProperties": True,
    },
    "Conflict": {
        "type": "object",
        "description": "The resource is already taken (R1), or the record is locked (a signed note).",
        "properties": {
            "detail": {"type": "string"},
            "conflicts": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
            "codes": CODES,
        },
        "required": ["detail"],
        "additionalProperties": True,
    },
}


def _response(description: str, schema: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


ERRORS = {
    "400": _response("Invalid input or a broken rule: field errors.", "ValidationErrors"),
    "401": _response("No or invalid credentials.", "ErrorDetail"),
    "403": _response("The role may not do this.", "ErrorDetail"),
    "404": _response("No such resource (or page).", "ErrorDetail"),
}
CONFLICT = {"409": _response("Already taken, or locked.", "Conflict")}
RATE_LIMITED = {
    "429": {
        **_response("Too many requests from this client: wait for Retry-After seconds.", "ErrorDetail"),
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
    }
}
# Operations behind clinic.ratelimit (path, method).
RATE_LIMITED_OPERATIONS = {("/api/v1/auth/token/", "post")}
WRITES = {"post", "put", "patch", "delete"}


def document_errors(result: dict, generator, request, public) -> dict:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(SCHEMAS)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete", "head", "options"}:
                continue
            responses = operation.setdefault("responses", {})
            extra = {**ERRORS, **(CONFLICT if method in WRITES else {})}
            if (path, method) in RATE_LIMITED_OPERATIONS:
                extra.update(RATE_LIMITED)
            for code, body in extra.items():
                responses.setdefault(code, body)
    for name, policy in RoleScopedFieldsMixin.scoped_components.items():
        component = schemas.get(name)
        if component and "required" in component:
            component["required"] = [f for f in component["required"] if f in policy.shared]
    return result
