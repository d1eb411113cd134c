"""Every write of an organization's routing rules: create, change, move, delete.

The pages and the API both come here. Each service takes the organization
explicitly and re-reads the rule inside it, so another organization's rule
raises ``RoutingRule.DoesNotExist`` (a 404 at the edge). Positions are kept
dense, 0..n-1 in the manager's order; the organization's row is the lock that
keeps two managers' moves from interleaving.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import Action, Area, audit_record, created, diff
from teams.config_cache import config_changed
from teams.models import Membership, Organization, Skill, Team, TeamMember

from .conditions import validate_conditions
from .models import RoutingRule

EDITABLE = (
    "name", "is_active", "customer", "conditions", "team", "attendant", "required_skills",
    "redirect_to",
)
MAX_RULES = 500


def routing_rule_validate(
    *,
    organization: Organization,
    name: str,
    customer: str,
    conditions: Any,
    team: Team | None,
    attendant: Membership | None,
    required_skills: list[Skill],
    redirect_to: str,
    previous: RoutingRule | None = None,
) -> None:
    """Every field of a rule, each refusal under the field it concerns.

    An archived team or a deactivated attendant is refused when newly chosen;
    one the rule already had may stay (routing then skips it) so that renaming
    a rule never fails over something the manager did not touch.
    """
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("Give the rule a name.")]
    if customer not in RoutingRule.Customer.values:
        errors["customer"] = [_("Choose new, existing or any customer.")]
    problems = validate_conditions(conditions)
    if problems:
        errors["conditions"] = problems
    if team is not None:
        if team.organization_id != organization.pk:
            errors["team"] = [_("Choose one of your organization's teams.")]
        elif team.is_archived and (previous is None or previous.team_id != team.pk):
            errors["team"] = [_("This team is archived: it takes no leads.")]
    if attendant is not None:
        if attendant.organization_id != organization.pk:
            errors["attendant"] = [_("Choose one of your organization's people.")]
        elif not attendant.is_active and (
            previous is None or previous.attendant_id != attendant.pk
        ):
            errors["attendant"] = [_("This person is deactivated.")]
        elif (
            team is not None and "team" not in errors
            and not TeamMember.objects.filter(team=team, membership=attendant).exists()
        ):
            # A dedicated attendant receives the lead as a member of its team (intake
            # checks the lead's team when the rule leaves the team to the caller).
            errors["attendant"] = [
                _("%(name)s is not in the team %(team)s: add them to it, or choose someone "
                  "who is.") % {"name": attendant.display_name, "team": team.name}
            ]
    if any(s.organization_id != organization.pk for s in required_skills):
        errors["required_skills"] = [_("Choose skills of your organization.")]
    if redirect_to and (team is not None or attendant is not None or required_skills):
        errors.setdefault("redirect_to", []).append(
            _("A redirect closes the lead: it takes no team, attendant or skills. Leave them "
              "empty, or remove the redirect.")
        )
    if errors:
        raise ValidationError(errors)


def _lock(organization: Organization) -> list[RoutingRule]:
    """Lock the organization's row and return its rules in order.

    The lock is the configuration version's bump: every process drops its copy of
    the rules (``routing.selectors.active_rules``) when this transaction commits,
    renumbering included, which ``bulk_update`` does without the save signals.
    """
    config_changed(organization.pk)
    return list(RoutingRule.objects.for_org(organization).order_by("position", "id"))


def _settings(rule: RoutingRule, skills: Iterable[Skill]) -> dict[str, Any]:
    """What the audit log records of a rule."""
    return {
        "name": rule.name, "position": rule.position, "is_active": rule.is_active,
        "customer": rule.customer, "conditions": rule.conditions,
        "team": rule.team.name if rule.team_id else None,
        "attendant": rule.attendant.display_name if rule.attendant_id else None,
        "required_skills": sorted(s.name for s in skills), "redirect_to": rule.redirect_to,
    }


def _record(organization, actor, rule: RoutingRule, action: str, changes: dict) -> None:
    audit_record(organization=organization, actor=actor, area=Area.RULE, action=action,
                 target=rule, target_label=rule.name, changes=changes)


def _renumber(rules: list[RoutingRule]) -> None:
    changed = []
    for position, rule in enumerate(rules):
        if rule.position != position:
            rule.position = position
            changed.append(rule)
    RoutingRule.objects.bulk_update(changed, ["position"])


def _place(rules: list[RoutingRule], rule: RoutingRule, position: int | None) -> None:
    """Put ``rule`` at ``position`` (clamped; ``None``: last) and renumber all."""
    rules = [r for r in rules if r.pk != rule.pk]
    index = len(rules) if position is None else max(0, min(len(rules), position))
    rules.insert(index, rule)
    _renumber(rules)


@transaction.atomic
def routing_rule_create(
    *,
    organization: Organization,
    name: str,
    is_active: bool = True,
    customer: str = RoutingRule.Customer.ANY,
    conditions: list | None = None,
    team: Team | None = None,
    attendant: Membership | None = None,
    required_skills: Iterable[Skill] = (),
    redirect_to: str = "",
    position: int | None = None,
    actor=None,
) -> RoutingRule:
    """A new rule at ``position`` (0 is first; ``None`` or past the end: last)."""
    conditions = [] if conditions is None else conditions
    skills = list(required_skills)
    name, redirect_to = name.strip(), redirect_to.strip()
    routing_rule_validate(
        organization=organization, name=name, customer=customer, conditions=conditions,
        team=team, attendant=attendant, required_skills=skills, redirect_to=redirect_to,
    )
    rules = _lock(organization)
    if len(rules) >= MAX_RULES:
        raise ValidationError(
            _("An organization can have at most %(n)d routing rules.") % {"n": MAX_RULES}
        )
    rule = RoutingRule.objects.create(
        organization=organization, name=name, is_active=is_active, customer=customer,
        conditions=conditions, team=team, attendant=attendant, redirect_to=redirect_to,
        position=len(rules),
    )
    rule.required_skills.set(skills)
    _place(rules, rule, position)
    _record(organization, actor, rule, Action.CREATED, created(_settings(rule, skills)))
    return rule


@transaction.atomic
def routing_rule_update(
    *, organization: Organization, rule_id: int, position: int | None = None, actor=None,
    **changes: Any,
) -> RoutingRule:
    """Change the given fields of a rule (``EDITABLE``) and, with ``position``, move it there.

    Fields left out keep their values; the rule is validated as a whole.
    """
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"unknown rule fields: {', '.join(sorted(unknown))}")
    rules = _lock(organization)
    rule = (
        RoutingRule.objects.for_org(organization)
        .select_related("team", "attendant")
        .get(pk=rule_id)
    )
    previous = RoutingRule(pk=rule.pk, team_id=rule.team_id, attendant_id=rule.attendant_id)
    before = _settings(rule, rule.required_skills.all())
    skills = list(changes.pop("required_skills", rule.required_skills.all()))
    for field in ("name", "redirect_to"):
        if field in changes:
            changes[field] = changes[field].strip()
    for field, value in changes.items():
        setattr(rule, field, value)
    routing_rule_validate(
        organization=organization, name=rule.name, customer=rule.customer,
        conditions=rule.conditions, team=rule.team, attendant=rule.attendant,
        required_skills=skills, redirect_to=rule.redirect_to, previous=previous,
    )
    rule.save(update_fields=[f for f in EDITABLE if f != "required_skills"])
    rule.required_skills.set(skills)
    if position is not None:
        _place(rules, rule, position)
    _record(organization, actor, rule, Action.CHANGED, diff(before, _settings(rule, skills)))
    return rule


@transaction.atomic
def routing_rule_move(
    *, organization: Organization, rule_id: int, offset: int, actor=None
) -> RoutingRule:
    """Move a rule ``offset`` places (-1: up, earlier; 1: down, later)."""
    rules = _lock(organization)
    ids = [r.pk for r in rules]
    if rule_id not in ids:
        raise RoutingRule.DoesNotExist
    index = ids.index(rule_id)
    rule = rules[index]
    _place(rules, rule, index + offset)
    _record(organization, actor, rule, Action.CHANGED,
            diff({"position": index}, {"position": rule.position}))
    return rule


@transaction.atomic
def routing_rule_delete(*, organization: Organization, rule_id: int, actor=None) -> None:
    """Delete a rule; the leads it routed keep their history (their rule link is cleared)."""
    rules = _lock(organization)
    rule = next((r for r in rules if r.pk == rule_id), None)
    if rule is None:
        raise RoutingRule.DoesNotExist
    rest = [r for r in rules if r.pk != rule_id]
    _record(organization, actor, rule, Action.DELETED,
            diff(_settings(rule, rule.required_skills.all()), {}))
    rule.delete()
    _renumber(rest)
