"""Project-wide API plumbing: a size-limited JSON parser and the OpenAPI key scheme."""

import json

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "payload_too_large"


class LimitedJSONParser(JSONParser):
    """JSON bodies up to ``DATA_UPLOAD_MAX_MEMORY_SIZE``; larger ones answer 413.

    DRF parsers read the stream directly, past Django's own body-size check.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge()
        if not raw:
            raise ParseError(_("The request body is empty; send a JSON object."))
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(raw.decode(encoding))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(_("JSON parse error: %(error)s") % {"error": exc}) from exc


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "teams.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Authorization: Api-Key <key>`; create keys with "
            "`manage.py create_api_key` or in the management pages.",
        }
