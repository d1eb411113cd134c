"""Project-wide API plumbing: a size-limited JSON parser, strict input fields shared by every
app's serializers (the one exception handler is in ``core.exceptions``).

This package imports no app of ours, so every app may import it.
"""

import json
import math
import re

import orjson
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import pagination, serializers, status
from rest_framework.exceptions import APIException, NotFound, ParseError
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.utils import encoders


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
        data = _NOT_PARSED
        # orjson reads integers beyond 64 bits as floats; json keeps them exact (and the
        # field then says it is out of range), so a body with 19 digits in a row goes there.
        if encoding.lower().replace("-", "") == "utf8" and not _LONG_DIGITS.search(raw):
            # orjson: a fraction of json's CPU. What it refuses (NaN, lone surrogates, bad
            # UTF-8...) is parsed again by json below, for the same error as ever.
            try:
                data = orjson.loads(raw)
            except orjson.JSONDecodeError:
                pass
        try:
            if data is _NOT_PARSED:
                data = json.loads(raw.decode(encoding), parse_constant=_refuse_constant,
                                  parse_float=_finite_float)
        except RecursionError as exc:
            raise ParseError(_("The JSON is nested too deeply.")) from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(_("JSON parse error: %(error)s") % {"error": exc}) from exc
        _check_storable(data)
        return data


class FastJSONRenderer(JSONRenderer):
    """DRF's JSON answer, rendered by orjson (compact, UTF-8, as DRF's defaults are).

    Lazy translations and the other types DRF's encoder knows go through that encoder;
    a client asking for indented JSON gets DRF's own rendering.
    """

    _encoder = encoders.JSONEncoder()

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if self.get_indent(accepted_media_type, renderer_context or {}):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            rendered = orjson.dumps(data, default=self._encoder.default,
                                    option=orjson.OPT_NON_STR_KEYS)
        except orjson.JSONEncodeError:
            # What orjson will not write (an integer beyond 64 bits kept in custom fields)
            # DRF's renderer writes as it always has.
            return super().render(data, accepted_media_type, renderer_context)
        # As DRF does: U+2028 and U+2029 escaped, for answers embedded in JavaScript.
        if b"\xe2\x80\xa8" in rendered or b"\xe2\x80\xa9" in rendered:
            rendered = rendered.replace(b"\xe2\x80\xa8", b"\\u2028").replace(
                b"\xe2\x80\xa9", b"\\u2029")
        return rendered


MAX_DEPTH = 32
_NOT_PARSED = object()
_LONG_DIGITS = re.compile(rb"[0-9]{19}")


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


# A JSON value of the wrong type is refused, not converted: DRF would take "true" or 1 for a
# boolean, "12" for a number and 12 for a text. The first match decides (BooleanField and
# ChoiceField are not CharFields; EmailField, SlugField and URLField are).
JSON_TYPES = (
    (serializers.BooleanField, (bool,), _("Must be true or false.")),
    (serializers.IntegerField, (int,), _("Must be a whole number.")),
    (serializers.FloatField, (int, float), _("Must be a number.")),
    (serializers.CharField, (str,), _("Must be a string.")),
    (serializers.DateTimeField, (str,), _("Must be a string.")),
    (serializers.ListField, (list,), _("Must be a list.")),
    (serializers.DictField, (dict,), _("Must be an object.")),
)


def json_type_errors(field: serializers.Field, value) -> list[str]:
    """Why ``value`` (as parsed from JSON) is not of the type ``field`` documents; [] if it is."""
    if value is None:
        return []  # allow_null decides
    for kind, types, message in JSON_TYPES:
        if isinstance(field, kind):
            wrong = not isinstance(value, types) or (
                isinstance(value, bool) and bool not in types)
            if wrong:
                return [message]
            if isinstance(field, serializers.ListField):
                for item in value:
                    if problems := json_type_errors(field.child, item):
                        return problems
            return []
    return []


class RejectUnknownFieldsMixin:
    """Name every field the client sent that this endpoint does not take, or sent as a JSON
    value of another type than its schema says.

    A typo (``emial``) or a try at a server-owned field (``assignee``,
    ``organization``, ``status``) is refused rather than silently dropped,
    together with any other field errors of the same payload. So are ``"true"`` for a
    boolean and ``12`` for a text: what the OpenAPI schema promises is what is taken.
    """

    def to_internal_value(self, data):
        refused = {}
        if isinstance(data, dict):
            writable = {name: f for name, f in self.fields.items() if not f.read_only}
            refused = {
                name: [_("Unknown or read-only field.")] for name in data if name not in writable
            }
            for name, value in data.items():
                if name in writable and (problems := json_type_errors(writable[name], value)):
                    refused[name] = problems
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if refused and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**refused, **exc.detail}) from exc
            raise
        if refused:
            raise serializers.ValidationError(refused)
        return value



class QuerySerializer(serializers.Serializer):
    """Query parameters: one given empty (``?team=``) is refused, naming it, instead of being
    taken as absent as DRF would; the schema says each takes a value."""

    def to_internal_value(self, data):
        blank = {
            name: [_("Give a value, or leave the parameter out.")]
            for name in self.fields if name in data and data.get(name) == ""
        }
        if blank:
            raise serializers.ValidationError(blank)
        return super().to_internal_value(data)


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's pages, with ``page`` documented as what it is (a whole number from 1) and held to
    it: anything else, empty included, is a 404 like a page past the last."""

    def get_page_number(self, request, paginator):
        number = request.query_params.get(self.page_query_param)
        if number is not None and not (number.isascii() and number.isdigit()):
            raise NotFound(_("Invalid page."))
        return super().get_page_number(request, paginator)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
        return parameters


class SharedFieldsMixin:
    """The serializer's fields built once per class and process, not once per instance.

    DRF deep-copies every declared field for each serializer it makes: for a lead, a
    POST's input and its answer, that was a tenth of the request's CPU. Sharing is
    right only where nothing per instance reaches the fields: no field that reads the
    serializer's ``context``, ``instance`` or ``partial`` (HiddenField, defaults with
    context, unique validators), no code that changes ``fields`` on an instance. The
    serializer's own methods (``validate_<field>``, ``validate``) still run on the
    instance at hand, with its context; a ``SerializerMethodField``'s method runs on
    the shared copy, so it must not read the context either.
    """

    @property
    def fields(self):
        cls = type(self)
        shared = cls.__dict__.get("_shared_fields")
        if shared is None:
            prototype = cls()
            shared = serializers.Serializer.fields.func(prototype)
            cls._shared_fields = shared  # a race builds it twice; either copy is right
        return shared
