"""Lead scoring: how many points a lead gets, and from which rules. Pure functions; each has
a test named after it in tests/test_scoring.py.

A rule holds when the behaviour it asks for (if any) was seen and every one of its
conditions holds on the lead's facts, in the routing rules' language
(routing.conditions: ``source``, ``email``, ``phone``, ``name``, ``customer``,
``custom.<name>``). A lead's score is the sum of the points of the rules that hold,
whatever their order; its parts name them, so the history can say how it was made up
("+30 budget ≥ 10000; +10 source google").

The score is worked out when a lead arrives (before the routing rules, which may test
it) and again when its fields, its stage or a behaviour change (leads.services).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from routing.conditions import NUMBER_FIELDS, TOP_LEVEL_FIELDS, conditions_hold

# Every field routing tests, but the score itself: a score cannot depend on itself.
SCORING_FIELDS = tuple(f for f in TOP_LEVEL_FIELDS if f not in NUMBER_FIELDS)
MIN_POINTS, MAX_POINTS = -1000, 1000

# Behaviours the product sees (ScoringRule.Behaviour):
OPENED_IN_TIME = "opened_in_time"  # its holder opened it within the service time
REACHED_QUALIFIED = "reached_qualified"  # it reached the qualified stage (or one past it)
RETURNING_CUSTOMER = "returning_customer"  # an earlier lead has its e-mail or phone
BEHAVIOURS = (OPENED_IN_TIME, REACHED_QUALIFIED, RETURNING_CUSTOMER)


@dataclass(frozen=True)
class Rule:
    """An active scoring rule as scoring reads it: plain values, kept per process."""

    id: int
    name: str
    points: int
    conditions: list
    behaviour: str = ""


@dataclass(frozen=True)
class Part:
    rule_id: int
    name: str
    points: int

    @property
    def text(self) -> str:
        return part_text(self.points, self.name)


@dataclass(frozen=True)
class Score:
    total: int
    parts: tuple[Part, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """As the history and the API keep it."""
        return {
            "total": self.total,
            "parts": [{"rule_id": p.rule_id, "name": p.name, "points": p.points}
                      for p in self.parts],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Score:
        data = data or {}
        return cls(
            total=int(data.get("total") or 0),
            parts=tuple(Part(p.get("rule_id"), p.get("name", ""), int(p.get("points", 0)))
                        for p in data.get("parts") or ()),
        )


def lead_facts(*, source: str, email: str, phone: str, name: str, custom: dict | None,
               returning: bool, origin: str = "") -> dict[str, Any]:
    """What conditions test, for scoring and for routing alike (``customer``: ``existing``
    when an earlier lead of the organization has the e-mail or phone; ``origin``: the name
    of the lead source it came in by, empty when none)."""
    return {
        "source": source, "email": email, "phone": phone, "name": name,
        "custom": custom or {}, "customer": "existing" if returning else "new",
        "origin": origin,
    }


def behaviours_seen(*, returning: bool, opened_in_time: bool,
                    reached_qualified: bool) -> frozenset[str]:
    """The behaviours a lead shows, from what the product recorded of it."""
    seen = {
        RETURNING_CUSTOMER: returning,
        OPENED_IN_TIME: opened_in_time,
        REACHED_QUALIFIED: reached_qualified,
    }
    return frozenset(name for name, happened in seen.items() if happened)


def rule_holds(rule: Rule, facts: dict[str, Any], behaviours: frozenset[str]) -> bool:
    """Its behaviour, if it asks for one, was seen, and all its conditions hold."""
    if rule.behaviour and rule.behaviour not in behaviours:
        return False
    return conditions_hold(rule.conditions, facts)


def score(rules: Iterable[Rule], facts: dict[str, Any],
          behaviours: frozenset[str] = frozenset()) -> Score:
    """The sum of the points of the rules that hold; the parts in the rules' id order, so
    neither the total nor the parts depend on the order the rules come in."""
    parts = tuple(
        Part(rule_id=rule.id, name=rule.name, points=rule.points)
        for rule in sorted(rules, key=lambda r: r.id)
        if rule_holds(rule, facts, behaviours)
    )
    return Score(total=sum(p.points for p in parts), parts=parts)


def signed(points: int) -> str:
    """``+30``, ``−10`` (a true minus sign), ``+0``."""
    return f"{'+' if points >= 0 else '−'}{abs(points)}"


def part_text(points: int, name: str) -> str:
    """``+30 budget ≥ 10000``; ``−10 no phone``."""
    return f"{signed(points)} {name}"


def score_text(score: Score) -> str:
    """The parts in one line, as the history shows them; a word when no rule holds."""
    if not score.parts:
        return _("no scoring rule holds")
    return "; ".join(p.text for p in score.parts)


def validate_points(points: Any) -> list[str]:
    """Problems with a rule's points, in words; empty when they are valid."""
    if isinstance(points, bool) or not isinstance(points, int):
        return [_("Give the points as a whole number.")]
    if not MIN_POINTS <= points <= MAX_POINTS:
        return [_("Points go from %(min)d to %(max)d.") % {"min": MIN_POINTS, "max": MAX_POINTS}]
    return []
