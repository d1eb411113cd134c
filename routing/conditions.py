"""Conditions of routing rules, evaluated on a lead's facts.

A condition is ``{"field": ..., "op": ..., "value": ...}``. Fields are the
lead's ``source``, ``email``, ``phone``, ``name``, ``customer`` (``new`` or
``existing``) and any custom field as ``custom.<key>`` (campaign and UTM
fields arrive as custom fields, e.g. ``custom.utm_source``). Every condition
of a rule must hold.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

OPERATORS = (
    "eq", "ne", "in", "not_in", "contains", "gt", "gte", "lt", "lte", "exists", "not_exists",
)
TOP_LEVEL_FIELDS = ("source", "email", "phone", "name", "customer")
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


def validate_conditions(conditions: Any) -> list[str]:
    """Problems with a list of conditions, in words; empty when it is valid."""
    if not isinstance(conditions, list):
        return [_("Conditions must be a list.")]
    problems = []
    for i, c in enumerate(conditions, start=1):
        if not isinstance(c, dict):
            problems.append(_("Condition %(i)d must be an object.") % {"i": i})
            continue
        field, op = c.get("field"), c.get("op")
        if not isinstance(field, str) or not (
            field in TOP_LEVEL_FIELDS or (field.startswith("custom.") and len(field) > 7)
        ):
            problems.append(
                _("Condition %(i)d: field must be one of %(fields)s or custom.<name>.")
                % {"i": i, "fields": ", ".join(TOP_LEVEL_FIELDS)}
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
    return problems
