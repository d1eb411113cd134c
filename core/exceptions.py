"""The API's one exception handler (``REST_FRAMEWORK["EXCEPTION_HANDLER"]``).

Kept apart from ``core.api``: DRF's views module reads the parser setting, which points
into ``core.api``, at import time.
"""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    """DRF's handler, plus: a service's Django ``ValidationError`` is a 400 naming the fields.

    Services validate what only they can (the state of the database under their locks)
    and raise Django's ``ValidationError``; views just call them.
    """
    if isinstance(exc, DjangoValidationError):
        exc = serializers.ValidationError(validation_error_detail(exc))
    return drf_exception_handler(exc, context)


def validation_error_detail(exc: DjangoValidationError) -> dict[str, list[str]]:
    """``{field: [messages]}``; errors not tied to a field go under ``non_field_errors``."""
    if hasattr(exc, "error_dict"):
        return {
            api_settings.NON_FIELD_ERRORS_KEY if name == NON_FIELD_ERRORS else name: messages
            for name, messages in exc.message_dict.items()
        }
    return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
