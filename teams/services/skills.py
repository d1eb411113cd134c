"""Skills: the organization's list, and who holds which.

Each service takes the organization explicitly and re-reads the rows it changes
inside it, so a foreign id fails with ``DoesNotExist`` (a 404 in the pages).
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from audit.services import Action, Area, audit_record, created, diff

from ..models import (
    Membership,
    Organization,
    Skill,
    Team,
)
from ..signals import rotation_changed
from .people import lock_membership


@transaction.atomic
def skill_create(
    *, organization: Organization, name: str, slug: str = "", actor=None
) -> Skill:
    """A skill of the organization; the slug (what the API and rules name) comes from the
    name when not given, and is unique in the organization."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the skill a name.")})
    field = "slug" if slug else "name"
    slug = slug or slugify(name)[:60]
    if not slug:
        raise ValidationError(
            {"slug": _("The name has no letters or digits to make a slug from: give one.")}
        )
    taken = ValidationError({field: _("Your organization already has this skill (“%(slug)s”).")
                             % {"slug": slug}})
    if Skill.objects.for_org(organization).filter(slug=slug).exists():
        raise taken
    try:
        with transaction.atomic():
            skill = Skill.objects.create(organization=organization, name=name, slug=slug)
    except IntegrityError:  # a simultaneous create took the slug
        raise taken from None
    audit_record(organization=organization, actor=actor, area=Area.SKILL, action=Action.CREATED,
                 target=skill, target_label=skill.name,
                 changes=created({"name": skill.name, "slug": skill.slug}))
    return skill


@transaction.atomic
def skill_delete(*, organization: Organization, skill_id: int, actor=None) -> None:
    """Delete a skill: people lose it, and rules and waiting leads no longer require it.

    Raises ``Skill.DoesNotExist`` for another organization's skill. Leads that
    waited only for this skill may now be taken, so the teams' queues are offered
    to their members.
    """
    skill = Skill.objects.for_org(organization).select_for_update().get(pk=skill_id)
    holders = sorted(m.display_name for m in Membership.objects.filter(skills=skill)
                     .select_related("user"))
    audit_record(organization=organization, actor=actor, area=Area.SKILL, action=Action.DELETED,
                 target=skill, target_label=skill.name,
                 changes=diff({"slug": skill.slug, "holders": holders}, {}))
    skill.delete()
    # teams cannot read leads: every active team's queue is offered (a cheap no-op when empty).
    teams = Team.objects.for_org(organization).filter(is_archived=False)
    for team in teams:
        rotation_changed.send(sender=Team, team=team)


@transaction.atomic
def person_skills_set(
    *, organization: Organization, membership_id: int, skills: Iterable[Skill], actor=None
) -> Membership:
    """The skills a person holds, replaced as a whole.

    Raises ``Membership.DoesNotExist`` for another organization's person and
    refuses skills of another organization. A person who gains a skill may take
    leads that waited for it, so their teams' queues are offered to them.
    """
    skills = list(skills)
    if any(s.organization_id != organization.pk for s in skills):
        raise ValidationError({"skills": _("Choose skills of your organization.")})
    membership = lock_membership(organization, membership_id)
    before = set(membership.skills.values_list("pk", flat=True))
    names = sorted(membership.skills.values_list("name", flat=True))
    membership.skills.set(skills)
    audit_record(organization=organization, actor=actor, area=Area.PERSON,
                 action=Action.CHANGED, target=membership, target_label=membership.display_name,
                 changes=diff({"skills": names}, {"skills": sorted(s.name for s in skills)}))
    if {s.pk for s in skills} - before:
        for team in Team.objects.filter(
            members__membership=membership, members__is_active=True, is_archived=False
        ):
            rotation_changed.send(sender=Team, team=team)
    return membership
