"""Every write of an organization's funnel: its stages, lost reasons and scoring rules.

The pages and the API both come here. Each service takes the organization explicitly
and looks its rows up inside it, so another organization's row raises ``DoesNotExist``
(a 404 at the edge). Each change bumps the organization's configuration version in
its transaction (``teams.config_cache.config_changed``): that row update is also the
lock that keeps two managers' moves from interleaving, and every process drops its
copy of the funnel and the scoring rules when it commits.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from audit.services import Action, Area, audit_record, created, diff
from routing.conditions import validate_conditions
from teams.config_cache import config_changed
from teams.models import Organization

from . import scoring
from .models import KEY_LENGTH, LostReason, ScoringRule, Stage

MAX_MIDDLE_STAGES = 20
MAX_LOST_REASONS = 50
MAX_SCORING_RULES = 200


def funnel_defaults_create(*, organization: Organization) -> None:
    """The stages and lost reasons every organization starts with (when it has none)."""
    if not Stage.objects.for_org(organization).exists():
        Stage.objects.bulk_create(
            Stage(organization=organization, key=key, kind=kind, position=position)
            for position, (key, kind, _name) in enumerate(Stage.DEFAULTS)
        )
    if not LostReason.objects.for_org(organization).exists():
        LostReason.objects.bulk_create(
            LostReason(organization=organization, key=key, position=position)
            for position, (key, _name) in enumerate(LostReason.DEFAULTS)
        )


def _new_key(name: str, taken: set[str], fallback: str) -> str:
    """A key from the name (``proposta_enviada``), unique in the organization."""
    base = slugify(name).replace("-", "_")[: KEY_LENGTH - 4].strip("_") or fallback
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key


def _taken(name: str, rows: list, *, but=None) -> bool:
    """Whether another row is called that, in the reader's language or by its key."""
    key = slugify(name).replace("-", "_")
    return any(
        row.pk != getattr(but, "pk", None) and (row.label.lower() == name.lower() or row.key == key)
        for row in rows
    )


def _clean_name(name: str, *, max_length: int, required: bool) -> str:
    name = (name or "").strip()
    if required and not name:
        raise ValidationError({"name": [_("Give it a name.")]})
    if len(name) > max_length:
        raise ValidationError({"name": [_("At most %(n)d characters.") % {"n": max_length}]})
    return name


# --- stages -----------------------------------------------------------------------------


def _stages(organization: Organization) -> list[Stage]:
    """Lock (through the version bump) and read the organization's stages, in order."""
    config_changed(organization.pk)
    return list(Stage.objects.for_org(organization).order_by("position", "id"))


def _renumber(rows: list[Stage]) -> None:
    changed = []
    for position, row in enumerate(rows):
        if row.position != position:
            row.position = position
            changed.append(row)
    Stage.objects.bulk_update(changed, ["position"])


def _stage(stages: list[Stage], key: str) -> Stage:
    found = next((s for s in stages if s.key == key), None)
    if found is None:
        raise Stage.DoesNotExist
    return found


@transaction.atomic
def stage_create(*, organization: Organization, actor=None, name: str) -> Stage:
    """A new middle stage, last before customer."""
    name = _clean_name(name, max_length=60, required=True)
    stages = _stages(organization)
    middle = [s for s in stages if s.kind == Stage.Kind.MIDDLE]
    if len(middle) >= MAX_MIDDLE_STAGES:
        raise ValidationError({"name": [
            _("A funnel can have at most %(n)d middle stages.") % {"n": MAX_MIDDLE_STAGES}]})
    if _taken(name, stages):
        raise ValidationError({"name": [_("There is a stage with this name already.")]})
    stage = Stage.objects.create(
        organization=organization, name=name, kind=Stage.Kind.MIDDLE,
        key=_new_key(name, {s.key for s in stages}, "stage"), position=len(stages),
    )
    won = next(i for i, s in enumerate(stages) if s.kind == Stage.Kind.WON)
    stages.insert(won, stage)
    _renumber(stages)
    _record(organization, actor, Area.FUNNEL, Action.CREATED, stage,
            created({"stage": stage.key, "name": stage.name}))
    return stage


@transaction.atomic
def stage_rename(*, organization: Organization, actor=None, key: str, name: str) -> Stage:
    """A stage's own name; empty gives a built-in stage its default name back."""
    stages = _stages(organization)
    stage = _stage(stages, key)
    name = _clean_name(name, max_length=60, required=key not in Stage.BUILT_IN)
    if name and _taken(name, stages, but=stage):
        raise ValidationError({"name": [_("There is a stage with this name already.")]})
    before = stage.name
    stage.name = name
    stage.save(update_fields=["name"])
    _record(organization, actor, Area.FUNNEL, Action.CHANGED, stage,
            diff({"name": before}, {"name": name}))
    return stage


@transaction.atomic
def stage_move(*, organization: Organization, actor=None, key: str, offset: int) -> Stage:
    """Move a middle stage ``offset`` places among the middle ones (-1: earlier)."""
    stages = _stages(organization)
    stage = _stage(stages, key)
    if stage.kind != Stage.Kind.MIDDLE:
        raise ValidationError({"stage": [
            _("New, customer and lost stay where they are; only the middle stages move.")]})
    middle = [s for s in stages if s.kind == Stage.Kind.MIDDLE]
    index = max(0, min(len(middle) - 1, middle.index(stage) + offset))
    middle.remove(stage)
    middle.insert(index, stage)
    first = [s for s in stages if s.kind == Stage.Kind.NEW]
    last = [s for s in stages if s.kind in (Stage.Kind.WON, Stage.Kind.LOST)]
    order_before = [s.key for s in stages]
    _renumber(first + middle + last)
    _record(organization, actor, Area.FUNNEL, Action.CHANGED, stage,
            diff({"order": order_before}, {"order": [s.key for s in first + middle + last]}))
    return stage


@transaction.atomic
def stage_set_active(*, organization: Organization, actor=None, key: str, is_active: bool) -> Stage:
    """Archive a stage the organization added (leads in it keep it), or bring it back."""
    stage = _stage(_stages(organization), key)
    if stage.key in Stage.BUILT_IN:
        raise ValidationError({"stage": [
            _("The built-in stages are always in use; rename them if their names do not "
              "fit.")]})
    before = stage.is_active
    stage.is_active = is_active
    stage.save(update_fields=["is_active"])
    _record(organization, actor, Area.FUNNEL, Action.CHANGED, stage,
            diff({"is_active": before}, {"is_active": is_active}))
    return stage


# --- lost reasons -----------------------------------------------------------------------


def _reasons(organization: Organization) -> list[LostReason]:
    config_changed(organization.pk)
    return list(LostReason.objects.for_org(organization).order_by("position", "id"))


def _reason(reasons: list[LostReason], key: str) -> LostReason:
    found = next((r for r in reasons if r.key == key), None)
    if found is None:
        raise LostReason.DoesNotExist
    return found


@transaction.atomic
def lost_reason_create(*, organization: Organization, actor=None, name: str) -> LostReason:
    name = _clean_name(name, max_length=80, required=True)
    reasons = _reasons(organization)
    if len(reasons) >= MAX_LOST_REASONS:
        raise ValidationError({"name": [
            _("An organization can have at most %(n)d lost reasons.") % {"n": MAX_LOST_REASONS}
        ]})
    if _taken(name, reasons):
        raise ValidationError({"name": [_("There is a reason with this name already.")]})
    reason = LostReason.objects.create(
        organization=organization, name=name, position=len(reasons),
        key=_new_key(name, {r.key for r in reasons}, "reason"),
    )
    _record(organization, actor, Area.FUNNEL, Action.CREATED, reason,
            created({"lost_reason": reason.key, "name": reason.name}))
    return reason


@transaction.atomic
def lost_reason_rename(*, organization: Organization, actor=None, key: str,
                       name: str) -> LostReason:
    """A reason's own name; empty gives a built-in reason its default name back."""
    reasons = _reasons(organization)
    reason = _reason(reasons, key)
    built_in = key in dict(LostReason.DEFAULTS)
    name = _clean_name(name, max_length=80, required=not built_in)
    if name and _taken(name, reasons, but=reason):
        raise ValidationError({"name": [_("There is a reason with this name already.")]})
    before = reason.name
    reason.name = name
    reason.save(update_fields=["name"])
    _record(organization, actor, Area.FUNNEL, Action.CHANGED, reason,
            diff({"name": before}, {"name": name}))
    return reason


@transaction.atomic
def lost_reason_set_active(*, organization: Organization, actor=None, key: str,
                           is_active: bool) -> LostReason:
    """Offer a reason no more (leads lost for it keep it), or offer it again. The last
    offered reason stays: losing a lead takes a reason."""
    reasons = _reasons(organization)
    reason = _reason(reasons, key)
    if not is_active and not any(r.is_active and r.pk != reason.pk for r in reasons):
        raise ValidationError({"lost_reason": [
            _("Keep at least one reason: a lead is lost for a reason.")]})
    before = reason.is_active
    reason.is_active = is_active
    reason.save(update_fields=["is_active"])
    _record(organization, actor, Area.FUNNEL, Action.CHANGED, reason,
            diff({"is_active": before}, {"is_active": is_active}))
    return reason


# --- scoring rules ----------------------------------------------------------------------

SCORING_EDITABLE = ("name", "points", "conditions", "behaviour", "is_active")


def scoring_rule_validate(*, name: str, points: Any, conditions: Any, behaviour: str) -> None:
    """Every field of a scoring rule, each refusal under the field it concerns."""
    errors: dict[str, list[str]] = {}
    if not (name or "").strip():
        errors["name"] = [_("Give the rule a name.")]
    elif len(name.strip()) > 120:
        errors["name"] = [_("At most %(n)d characters.") % {"n": 120}]
    problems = scoring.validate_points(points)
    if problems:
        errors["points"] = problems
    problems = validate_conditions(conditions, fields=scoring.SCORING_FIELDS)
    if problems:
        errors["conditions"] = problems
    if behaviour not in ScoringRule.Behaviour.values:
        errors["behaviour"] = [
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(scoring.BEHAVIOURS)}]
    elif not behaviour and not conditions and "conditions" not in errors:
        errors["conditions"] = [
            _("Give a condition or a behaviour: a rule that always holds adds the same "
              "points to every lead.")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def scoring_rule_create(
    *, organization: Organization, name: str, points: int, conditions: list | None = None,
    behaviour: str = "", is_active: bool = True, actor=None,
) -> ScoringRule:
    conditions = [] if conditions is None else conditions
    scoring_rule_validate(name=name, points=points, conditions=conditions, behaviour=behaviour)
    config_changed(organization.pk)
    if ScoringRule.objects.for_org(organization).count() >= MAX_SCORING_RULES:
        raise ValidationError(_("An organization can have at most %(n)d scoring rules.")
                              % {"n": MAX_SCORING_RULES})
    rule = ScoringRule.objects.create(
        organization=organization, name=name.strip(), points=points, conditions=conditions,
        behaviour=behaviour, is_active=is_active,
    )
    _record(organization, actor, Area.SCORING, Action.CREATED, rule,
            created(_rule_values(rule)))
    return rule


@transaction.atomic
def scoring_rule_update(*, organization: Organization, rule_id: int, actor=None,
                        **changes: Any) -> ScoringRule:
    """Change the given fields (``SCORING_EDITABLE``); the rule is validated as a whole."""
    unknown = set(changes) - set(SCORING_EDITABLE)
    if unknown:
        raise TypeError(f"unknown scoring rule fields: {', '.join(sorted(unknown))}")
    config_changed(organization.pk)
    rule = ScoringRule.objects.for_org(organization).select_for_update().get(pk=rule_id)
    before = _rule_values(rule)
    for field, value in changes.items():
        setattr(rule, field, value)
    scoring_rule_validate(name=rule.name, points=rule.points, conditions=rule.conditions,
                          behaviour=rule.behaviour)
    rule.name = rule.name.strip()
    rule.save(update_fields=list(SCORING_EDITABLE))
    _record(organization, actor, Area.SCORING, Action.CHANGED, rule,
            diff(before, _rule_values(rule)))
    return rule


@transaction.atomic
def scoring_rule_delete(*, organization: Organization, actor=None, rule_id: int) -> None:
    """Leads keep the score they have; their history still names the rule."""
    config_changed(organization.pk)
    rule = ScoringRule.objects.for_org(organization).get(pk=rule_id)
    _record(organization, actor, Area.SCORING, Action.DELETED, rule,
            diff(_rule_values(rule), {}))
    rule.delete()


def _rule_values(rule: ScoringRule) -> dict[str, Any]:
    return {field: getattr(rule, field) for field in SCORING_EDITABLE}


def _record(organization, actor, area, action, target, changes) -> None:
    """Managers' changes to the funnel go to the audit log, in the change's transaction."""
    audit_record(organization=organization, actor=actor, area=area, action=action,
                 target=target, target_label=getattr(target, "name", "") or str(target),
                 changes=changes)
