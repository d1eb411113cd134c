"""The API's one exception handler (``REST_FRAMEWORK["EXCEPTION_HANDLER"]``) and its errors.

Kept apart from ``core.api``: DRF's views module reads the parser setting, which points
into ``core.api``, at import time.
"""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import defaults
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ErrorDetail
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

API_PREFIX = "/api/"


class Conflict(APIException):
    """409: the request is fine, but the state of the data refuses it (say which field)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("The request conflicts with the current state.")
    default_code = "conflict"


# Codes for errors that reach the handler without one (Django's Http404 and PermissionDenied).
CODES = {
    400: "invalid", 401: "not_authenticated", 403: "permission_denied", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 411: "length_required",
    413: "payload_too_large", 415: "unsupported_media_type", 429: "throttled",
}


def exception_handler(exc, context):
    """DRF's handler, plus: a service's Django ``ValidationError`` is a 400 naming the fields,
    and every error body has one shape (``core.schema.ERROR_SCHEMA``).

    Services validate what only they can (the state of the database under their locks)
    and raise Django's ``ValidationError``; views just call them.
    """
    if isinstance(exc, DjangoValidationError):
        exc = serializers.ValidationError(validation_error_detail(exc))
    response = drf_exception_handler(exc, context)
    if response is not None:
        # An error raised with its own code (``Conflict(..., code="not_ready")``) keeps it.
        detail = getattr(exc, "detail", None)
        code = (getattr(detail, "code", None) if isinstance(detail, ErrorDetail) else None) \
            or getattr(exc, "default_code", None) or CODES.get(response.status_code, "error")
        response.data = error_body(response.data, code=code)
    return response


def error_body(data, *, code: str) -> dict:
    """``{"detail": <for a person>, "code": <for a program>, <field>: [messages], ...}``.

    DRF answers ``{"detail": ...}``, ``{field: [...]}``, ``{field: "..."}`` or a bare list
    depending on how the error was raised; clients get one shape whatever the cause.
    """
    if isinstance(data, list):
        data = {api_settings.NON_FIELD_ERRORS_KEY: data}
    elif not isinstance(data, dict):
        data = {"detail": str(data)}
    if "detail" in data and isinstance(data["detail"], str):
        return {**data, "detail": str(data["detail"]), "code": code}
    fields = {name: [m] if isinstance(m, str) else m for name, m in data.items()}
    if list(fields) == [api_settings.NON_FIELD_ERRORS_KEY]:
        detail = " ".join(str(m) for m in fields[api_settings.NON_FIELD_ERRORS_KEY])
    else:
        detail = _("Check these fields: %(fields)s.") % {"fields": ", ".join(fields)}
    return {"detail": detail, "code": code, **fields}


def validation_error_detail(exc: DjangoValidationError) -> dict[str, list[str]]:
    """``{field: [messages]}``; errors not tied to a field go under ``non_field_errors``."""
    if hasattr(exc, "error_dict"):
        return {
            api_settings.NON_FIELD_ERRORS_KEY if name == NON_FIELD_ERRORS else name: messages
            for name, messages in exc.message_dict.items()
        }
    return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}


def not_found(request, exception=None):
    """``handler404``: an API path that matches no route answers the API's error body, not
    the site's HTML page."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse(error_body({"detail": _("Not found.")}, code="not_found"),
                            status=status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception)
