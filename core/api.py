"""Project-wide API plumbing: a size-limited JSON parser, strict input fields shared by every
app's serializers (the one exception handler is in ``core.exceptions``).

This package imports no app of ours, so every app may import it.
"""

import json
import math

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, status
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
            data = json.loads(raw.decode(encoding), parse_constant=_refuse_constant,
                              parse_float=_finite_float)
        except RecursionError as exc:
            raise ParseError(_("The JSON is nested too deeply.")) from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(_("JSON parse error: %(error)s") % {"error": exc}) from exc
        _check_storable(data)
        return data


MAX_DEPTH = 32


def _refuse_constant(name):
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text):
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} is out of range")
    return value


def _check_storable(value, depth=0, field=None):
    """Refuse what no database column can keep: NUL characters, lone surrogates, deep nesting.

    The error names the top-level field it was found under, as field errors do.
    """

    def refuse(message):
        raise ParseError({field: [message]} if field else message)

    if depth > MAX_DEPTH:
        refuse(_("The JSON is nested too deeply."))
    if isinstance(value, str):
        if "\x00" in value:
            refuse(_("Text may not contain NUL characters."))
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            refuse(_("Text must be valid Unicode (no lone surrogates)."))
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_storable(key, depth + 1, field or key)
            _check_storable(item, depth + 1, field or key)
    elif isinstance(value, list):
        for item in value:
            _check_storable(item, depth + 1, field)


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers, booleans and objects instead of coercing them."""

    default_error_messages = {"invalid": _("Must be a string.")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class RejectUnknownFieldsMixin:
    """Name every field the client sent that this endpoint does not take.

    A typo (``emial``) or a try at a server-owned field (``assignee``,
    ``organization``, ``status``) is refused rather than silently dropped,
    together with any other field errors of the same payload.
    """

    def to_internal_value(self, data):
        unknown = {}
        if isinstance(data, dict):
            writable = {name for name, f in self.fields.items() if not f.read_only}
            unknown = {
                name: [_("Unknown or read-only field.")] for name in data if name not in writable
            }
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**unknown, **exc.detail}) from exc
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value

