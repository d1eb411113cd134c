"""Reads of an organization's funnel. Intake and the lead pages read the funnel and the
scoring rules from this process's copy (teams.config_cache), rebuilt when the
organization's configuration version moves; the managers' pages read the rows."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from routing.selectors import matching_rule
from teams.config_cache import org_cached
from teams.models import Organization

from . import scoring
from .models import LostReason, ScoringRule, Stage


@dataclass(frozen=True)
class StageInfo:
    key: str
    name: str  # the organization's own name; empty for the default one
    kind: str
    position: int
    is_active: bool = True

    @property
    def label(self) -> str:
        """The name in the reader's language (copies are shared by every request)."""
        return self.name or str(Stage.DEFAULT_NAMES.get(self.key, self.key))

    @property
    def is_outcome(self) -> bool:
        return self.kind in (Stage.Kind.WON, Stage.Kind.LOST)


@dataclass(frozen=True)
class ReasonInfo:
    key: str
    name: str
    is_active: bool

    @property
    def label(self) -> str:
        return self.name or str(dict(LostReason.DEFAULTS).get(self.key, self.key))


@dataclass(frozen=True)
class Funnel:
    """An organization's stages in order (new, the middle ones, customer, lost) and its lost
    reasons, archived ones included (leads and reports still name them)."""

    stages: tuple[StageInfo, ...]
    lost_reasons: tuple[ReasonInfo, ...]

    def stage(self, key: str) -> StageInfo | None:
        return next((s for s in self.stages if s.key == key), None)

    def reason(self, key: str) -> ReasonInfo | None:
        return next((r for r in self.lost_reasons if r.key == key), None)

    @property
    def open_stages(self) -> tuple[StageInfo, ...]:
        """The stages a lead still being worked can be moved to: new and the middle ones."""
        return tuple(s for s in self.stages if s.is_active and not s.is_outcome)

    @property
    def steps(self) -> tuple[StageInfo, ...]:
        """The funnel's steps, in order: every stage in use but lost."""
        return tuple(s for s in self.stages if s.is_active and s.kind != Stage.Kind.LOST)

    @property
    def offered_reasons(self) -> tuple[ReasonInfo, ...]:
        return tuple(r for r in self.lost_reasons if r.is_active)

    def at_or_past(self, key: str) -> tuple[str, ...]:
        """The steps from ``key`` on: a lead in any of them has reached ``key``."""
        steps = self.steps
        keys = [s.key for s in steps]
        return tuple(keys[keys.index(key):]) if key in keys else ()

    def reaches(self, stage_key: str, target: str) -> bool:
        """Whether a lead in ``stage_key`` has reached ``target`` in the current order."""
        return stage_key in self.at_or_past(target)

    def stage_label(self, key: str) -> str:
        stage = self.stage(key)
        return stage.label if stage else key

    def reason_label(self, key: str) -> str:
        reason = self.reason(key)
        return reason.label if reason else key


def funnel_of(*, organization: Organization) -> Funnel:
    """The organization's funnel, kept per process until its configuration changes."""

    def build() -> Funnel:
        stages = Stage.objects.for_org(organization).order_by("position", "id")
        reasons = LostReason.objects.for_org(organization).order_by("position", "id")
        return Funnel(
            stages=tuple(StageInfo(s.key, s.name, s.kind, s.position, s.is_active)
                         for s in stages),
            lost_reasons=tuple(ReasonInfo(r.key, r.name, r.is_active) for r in reasons),
        )

    return org_cached(organization, "funnel.funnel", build)


def active_scoring_rules(*, organization: Organization) -> tuple[scoring.Rule, ...]:
    """The organization's active scoring rules: read on every new lead, so kept per process
    like the routing rules (routing.selectors.active_rules)."""

    def build() -> tuple[scoring.Rule, ...]:
        rules = ScoringRule.objects.for_org(organization).filter(is_active=True).order_by("id")
        return tuple(
            scoring.Rule(id=r.pk, name=r.name, points=r.points, conditions=r.conditions,
                         behaviour=r.behaviour)
            for r in rules
        )

    return org_cached(organization, "funnel.scoring_rules", build)


def stage_list(*, organization: Organization) -> QuerySet[Stage]:
    return Stage.objects.for_org(organization).order_by("position", "id")


def lost_reason_list(*, organization: Organization) -> QuerySet[LostReason]:
    return LostReason.objects.for_org(organization).order_by("-is_active", "position", "id")


def scoring_rule_list(*, organization: Organization) -> QuerySet[ScoringRule]:
    return ScoringRule.objects.for_org(organization).order_by("id")


def scoring_rule_get(*, organization: Organization, rule_id: int) -> ScoringRule:
    """Raises ``ScoringRule.DoesNotExist`` for another organization's rule, as for none."""
    return scoring_rule_list(organization=organization).get(pk=rule_id)


@dataclass(frozen=True)
class Preview:
    """What a sample lead would get: its score, and the routing rule that would take it."""

    score: scoring.Score
    routing_rule_id: int | None


def score_preview(
    *, organization: Organization, name: str = "", email: str = "", phone: str = "",
    source: str = "api", custom: dict | None = None, returning: bool = False,
    opened_in_time: bool = False, reached_qualified: bool = False, origin: str = "",
) -> Preview:
    """The score the organization's active scoring rules give a sample lead, and the first
    routing rule that would match it with that score (routing rules may test it)."""
    facts = scoring.lead_facts(
        source=source, email=email.strip().lower(), phone=phone.strip(), name=name,
        custom=custom, returning=returning, origin=origin.strip(),
    )
    score = scoring.score(
        active_scoring_rules(organization=organization), facts,
        scoring.behaviours_seen(returning=returning, opened_in_time=opened_in_time,
                                reached_qualified=reached_qualified),
    )
    rule = matching_rule(organization=organization, facts={**facts, "score": score.total})
    return Preview(score=score, routing_rule_id=rule.id if rule else None)
