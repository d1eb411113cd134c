"""The OpenAPI contract, as generated clients read it (drf-spectacular).

- Paths are listed as the README writes them, without a trailing slash; every API path also
  answers with one (config/urls.py).
- Operation ids are ``<path>_<verb>`` (``leads_create``, ``routing_rules_partial_update``) or,
  for an action that is not create/read/update/delete, ``<path>`` alone (``leads_accept``,
  ``webhooks_rotate_secret``). Views that are not viewsets name theirs in ``extend_schema``.
- Request bodies are components of their own (``COMPONENT_SPLIT_REQUEST``): read-only fields
  are never in them, and a serializer that refuses unknown fields says so
  (``additionalProperties: false``).
- Every operation documents the one error body (``Error``) for the error statuses the API
  answers; ``core.exceptions`` is what makes every error that shape.
"""

from drf_spectacular.openapi import AutoSchema
from rest_framework import viewsets

from .api import RejectUnknownFieldsMixin

CRUD_ACTIONS = frozenset({"list", "create", "retrieve", "update", "partial_update", "destroy"})

ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "Every error answer. `detail` says what went wrong, for a person; `code` is stable, "
        "for a program. A 400 also names each refused field (or header, or query parameter) "
        "at the top level with its messages, e.g. `{\"email\": [\"Enter a valid email "
        "address.\"]}`; a nested input (a handoff's `contact`) nests them the same way."
    ),
    "properties": {
        "detail": {"type": "string"},
        "code": {
            "type": "string",
            "description": "`invalid`, `parse_error`, `not_authenticated`, "
            "`authentication_failed`, `permission_denied`, `not_found`, `method_not_allowed`, "
            "`not_acceptable`, `conflict`, `length_required`, `payload_too_large`, "
            "`unsupported_media_type`, `throttled`, `organization_suspended`.",
        },
    },
    "required": ["detail", "code"],
    "additionalProperties": {},
}
ERROR_RESPONSES = {
    "400": "Bad input: each refused field, header or query parameter is named.",
    "401": "No API key, or one that is unknown or revoked "
           "(`Authorization: Api-Key <key>`).",
    "403": "The key may not do this, or its organization is suspended "
           "(code `organization_suspended`).",
    "404": "Not found, or another organization's: both answer the same.",
    "409": "The request conflicts with the current state (the error says which).",
    "413": "The request body is larger than the server takes.",
    "429": "Too many requests: try again after the `Retry-After` header's seconds.",
}
RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer"},
        "description": "Seconds to wait before trying again.",
    }
}


class ApiSchema(AutoSchema):
    def get_operation_id(self):
        view = self.view
        action = getattr(view, "action", None)
        if isinstance(view, viewsets.ViewSetMixin) and action and action not in CRUD_ACTIONS:
            tokens = [t for t in self._tokenize_path() if not t.startswith("{")]
            return "_".join(tokens).replace("-", "_")
        return super().get_operation_id()

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request" and isinstance(serializer, RejectUnknownFieldsMixin):
            schema["additionalProperties"] = False
        return schema


def without_trailing_slash(endpoints, **kwargs):
    """Preprocessing hook: list ``/api/v1/leads`` (the README's form), not ``…/leads/``."""
    return [
        (path.rstrip("/") if path != "/" else path, regex, method, callback)
        for path, regex, method, callback in endpoints
    ]


def error_responses(result, generator, request, public, **kwargs):
    """Postprocessing hook: the ``Error`` component on every operation, for every error
    status the API answers, unless the operation documents that status itself."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    reference = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_RESPONSES.items():
                answer = responses.setdefault(code, {"description": description})
                answer.setdefault("content", {})["application/json"] = {"schema": reference}
                if code == "429":
                    answer["headers"] = RETRY_AFTER
    return result
