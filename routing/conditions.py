"""Conditions of routing rules, evaluated on a lead's facts.

A condition is ``{"field": ..., "op": ..., "value": ...}``. Fields are the
lead's ``source``, ``email``, ``phone``, ``name``, ``customer`` (``new`` or
``existing``), ``origin`` (the name of the lead source, an intake URL, it came in
by; empty for the API, people and imports), its ``score`` (funnel.scoring, worked
out before routing) and any custom field as ``custom.<key>`` (campaign and UTM
fields arrive as custom fields, e.g. ``custom.utm_source``). Every condition of a
rule must hold.

The same language serves the scoring rules (funnel.scoring), whose fields are
these but ``score``: a score cannot depend on itself.
"""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext as _

OPERATORS = (
    "eq", "ne", "in", "not_in", "contains", "gt", "gte", "lt", "lte", "exists", "not_exists",
)
TOP_LEVEL_FIELDS = ("source", "email", "phone", "name", "customer", "origin", "score")
# Fields that hold numbers only: their conditions compare with numbers, or ask if set.
NUMBER_FIELDS = ("score",)
NUMBER_OPERATORS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "exists", "not_exists")
COMPARISONS = ("gt", "gte", "lt", "lte")
VALUELESS = ("exists", "not_exists")
MISSING = object()


def field_value(facts: dict[str, Any], field: str) -> Any:
    if field.startswith("custom."):
        return (facts.get("custom") or {}).get(field[len("custom."):], MISSING)
    return facts.get(field, MISSING)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str:
    return str(value).strip().lower()


def condition_holds(condition: dict[str, Any], facts: dict[str, Any]) -> bool:
    op = condition["op"]
    actual = field_value(facts, condition["field"])
    expected = condition.get("value")
    if op == "exists":
        return actual is not MISSING and actual not in ("", None)
    if op == "not_exists":
        return actual is MISSING or actual in ("", None)
    if actual is MISSING:
        return op in ("ne", "not_in")
    if op in ("gt", "gte", "lt", "lte"):
        a, b = _number(actual), _number(expected)
        if a is None or b is None:
            return False
        return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]
    if op in ("in", "not_in"):
        options = {_text(v) for v in (expected or [])}
        return (_text(actual) in options) == (op == "in")
    if op == "contains":
        return _text(expected) in _text(actual)
    a_num, b_num = _number(actual), _number(expected)
    equal = a_num == b_num if a_num is not None and b_num is not None else (
        _text(actual) == _text(expected)
    )
    return equal if op == "eq" else not equal


def conditions_hold(conditions: list[dict[str, Any]], facts: dict[str, Any]) -> bool:
    return all(condition_holds(c, facts) for c in conditions)


def field_known(field: Any, fields: tuple[str, ...] = TOP_LEVEL_FIELDS) -> bool:
    """One of ``fields``, or ``custom.<name>``."""
    return isinstance(field, str) and (
        field in fields or (field.startswith("custom.") and len(field) > len("custom."))
    )


def validate_conditions(
    conditions: Any, *, fields: tuple[str, ...] = TOP_LEVEL_FIELDS
) -> list[str]:
    """Problems with a list of conditions, in words; empty when it is valid.

    Comparisons (greater, less) and every condition on a number field take numbers:
    against anything else they could never hold, so they are refused, not kept.
    """
    if not isinstance(conditions, list):
        return [_("Conditions must be a list.")]
    problems = []
    for i, c in enumerate(conditions, start=1):
        if not isinstance(c, dict):
            problems.append(_("Condition %(i)d must be an object.") % {"i": i})
            continue
        field, op = c.get("field"), c.get("op")
        if not field_known(field, fields):
            problems.append(
                _("Condition %(i)d: field must be one of %(fields)s or custom.<name>.")
                % {"i": i, "fields": ", ".join(fields)}
            )
        if op not in OPERATORS:
            problems.append(
                _("Condition %(i)d: op must be one of %(ops)s.")
                % {"i": i, "ops": ", ".join(OPERATORS)}
            )
        elif op in ("in", "not_in") and not isinstance(c.get("value"), list):
            problems.append(_("Condition %(i)d: %(op)s needs a list value.") % {"i": i, "op": op})
        elif op not in ("exists", "not_exists") and "value" not in c:
            problems.append(_("Condition %(i)d: a value is needed.") % {"i": i})
        elif field in NUMBER_FIELDS and op not in NUMBER_OPERATORS:
            problems.append(
                _("Condition %(i)d: %(field)s is a number; “%(op)s” does not apply to it.")
                % {"i": i, "field": field, "op": op}
            )
        elif (
            (op in COMPARISONS or field in NUMBER_FIELDS) and op not in VALUELESS
            and not _all_numbers(c.get("value"))
        ):
            problems.append(
                _("Condition %(i)d: %(field)s %(op)s compares numbers: give a number.")
                % {"i": i, "field": field, "op": op}
            )
    return problems


def _all_numbers(value: Any) -> bool:
    """A finite number (or a text that reads as one, as forms send), or a list of them."""
    values = value if isinstance(value, list) else [value]
    return all(
        (n := _number(v)) is not None and math.isfinite(n) for v in values
    )
