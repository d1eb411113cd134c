from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


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
