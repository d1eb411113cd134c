from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import selectors
from .forms import (
    ApiKeyForm,
    BusinessHoursEditor,
    OrganizationForm,
    PersonCreateForm,
    PersonForm,
    PersonSkillsForm,
    SkillForm,
    TeamForm,
    TeamMemberAddForm,
    TeamMemberForm,
)
from .hours import team_schedule
from .models import Membership
from .permissions import manager_required
from .services import hours as hours_services
from .services import keys, people, skills
from .services import organization as organization_services
from .services import teams as team_services
from .web import add_errors as _add_errors
from .web import or_404 as _or_404
from .web import posted as _posted

# --- the managers' pages ----------------------------------------------------------------------
# Every page below is for owners and managers of request.organization; each
# object is looked up inside that organization, so another one's id is a 404.

PAGE_SIZE = 50






def _page(request, items):
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))




def _messages_from(request, exc: ValidationError) -> None:
    for text in exc.messages:
        messages.error(request, text)


# --- teams ----------------------------------------------------------------------------------


@manager_required
def team_list(request):
    archived = request.GET.get("archived") == "1"
    teams = selectors.team_list(organization=request.organization, archived=archived)
    return render(request, "teams/team_list.html", {
        "page": _page(request, teams), "archived": archived,
        "default_team_id": request.organization.default_team_id,
    })


@manager_required
def team_create(request):
    form = TeamForm(_posted(request), organization=request.organization)
    if request.method == "POST" and form.is_valid():
        try:
            team = team_services.team_create(organization=request.organization,
                                             actor=request.membership, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request, _("Team “%(name)s” created. Now add its members.") % {"name": team.name}
            )
            return redirect("team-detail", team_id=team.pk)
    return render(request, "teams/team_form.html", {"form": form})


MEMBERS_FORM_ID = "team-members"


def _member_form(member, data=None, *, in_table=True):
    """A member's switch and capacity. On the team page every row's fields belong to one
    form (``MEMBERS_FORM_ID``, saved with one button), each row under its own prefix; the
    single-member endpoint takes them unprefixed."""
    form = TeamMemberForm(
        data,
        initial={"is_active": member.is_active, "capacity": member.capacity},
        prefix=f"m{member.pk}" if in_table else None,
        auto_id=f"m{member.pk}_%s",
    )
    for field in form.fields.values():
        field.widget.attrs["form"] = MEMBERS_FORM_ID
    return form


def _render_team(request, team, *, form=None, add_form=None, bound_member=None,
                 bound_rows=None, status=200):
    members = selectors.team_members(team=team)
    rows = [
        (m, (bound_rows or {}).get(m.pk)
         or (bound_member[1] if bound_member and bound_member[0] == m.pk else _member_form(m)))
        for m in members
    ]
    context = {
        "team": team,
        "tab": "team",
        "form": form or TeamForm(instance=team, organization=request.organization),
        "add_form": add_form
        or TeamMemberAddForm(organization=request.organization, team=team),
        "rows": rows,
        "active_count": sum(m.is_active and m.membership.is_active for m in members),
        "is_default": request.organization.default_team_id == team.pk,
        "members_form_id": MEMBERS_FORM_ID,
    }
    return render(request, "teams/team_detail.html", context, status=status)


@manager_required
def team_detail(request, team_id: int):
    team = _or_404(selectors.team_get, organization=request.organization, team_id=team_id)
    return _render_team(request, team)


@require_POST
@manager_required
def team_edit(request, team_id: int):
    team = _or_404(selectors.team_get, organization=request.organization, team_id=team_id)
    form = TeamForm(request.POST, instance=team, organization=request.organization)
    if form.is_valid():
        try:
            team_services.team_update(
                organization=request.organization,
                actor=request.membership, team_id=team.pk, **form.cleaned_data
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Team saved."))
            return redirect("team-detail", team_id=team.pk)
    return _render_team(request, team, form=form)


@require_POST
@manager_required
def team_archive(request, team_id: int):
    team = _or_404(selectors.team_get, organization=request.organization, team_id=team_id)
    archive = request.POST.get("archived") == "1"
    try:
        team_services.team_set_archived(
            organization=request.organization,
            actor=request.membership, team_id=team.pk, archived=archive
        )
    except ValidationError as exc:
        _messages_from(request, exc)
    else:
        if archive:
            messages.success(request, _("Team “%(name)s” archived: it takes no new leads.")
                             % {"name": team.name})
        else:
            messages.success(request, _("Team “%(name)s” is active again.") % {"name": team.name})
    return redirect("team-detail", team_id=team.pk)


@require_POST
@manager_required
def team_member_add(request, team_id: int):
    team = _or_404(selectors.team_get, organization=request.organization, team_id=team_id)
    form = TeamMemberAddForm(request.POST, organization=request.organization, team=team)
    if form.is_valid():
        try:
            member = team_services.team_member_add(
                organization=request.organization, actor=request.membership, team_id=team.pk,
                membership_id=form.cleaned_data["membership"].pk,
                capacity=form.cleaned_data["capacity"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("%(name)s joined the team.")
                             % {"name": member.membership.display_name})
            return redirect("team-detail", team_id=team.pk)
    return _render_team(request, team, add_form=form)


@require_POST
@manager_required
def team_member_update(request, team_id: int, member_id: int):
    team = _or_404(selectors.team_get, organization=request.organization, team_id=team_id)
    member = _or_404(selectors.team_member_get, organization=request.organization, team=team,
                     member_id=member_id)
    form = _member_form(member, request.POST, in_table=False)
    if not form.is_valid():
        # Shown again in the table's one form: its fields under the row's prefix, so that
        # the page's Save sends them with the others.
        in_table = _member_form(member, {f"m{member.pk}-{name}": value
                                         for name, value in request.POST.items()})
        in_table.is_valid()
        return _render_team(request, team, bound_member=(member.pk, in_table), status=400)
    team_services.team_member_update(
        organization=request.organization,
        actor=request.membership, team_id=team.pk, member_id=member.pk,
        is_active=form.cleaned_data["is_active"], capacity=form.cleaned_data["capacity"],
    )
    messages.success(request, _("%(name)s: saved.") % {"name": member.membership.display_name})
    return redirect("team-detail", team_id=team.pk)


@require_POST
@manager_required
def team_members_save(request, team_id: int):
    """Every row of the members table at once: in rotation, and capacity. One bad value
    saves nothing and shows the page again with each row's problem."""
    team = _or_404(selectors.team_get, organization=request.organization, team_id=team_id)
    forms = {m.pk: _member_form(m, request.POST) for m in selectors.team_members(team=team)}
    if not all([f.is_valid() for f in forms.values()]):
        messages.error(request, _("Nothing was saved: correct the rows marked below."))
        return _render_team(request, team, bound_rows=forms, status=400)
    team_services.team_members_update(
        organization=request.organization, actor=request.membership, team_id=team.pk,
        changes={pk: (f.cleaned_data["is_active"], f.cleaned_data["capacity"])
                 for pk, f in forms.items()},
    )
    messages.success(request, _("Members saved."))
    return redirect("team-detail", team_id=team.pk)


@require_POST
@manager_required
def team_member_move(request, team_id: int, member_id: int):
    team = _or_404(selectors.team_get, organization=request.organization, team_id=team_id)
    offset = {"up": -1, "down": 1}.get(request.POST.get("direction", ""))
    if offset is None:
        return HttpResponseBadRequest(_("Unknown direction."))
    _or_404(team_services.team_member_move, organization=request.organization,
            actor=request.membership, team_id=team.pk,
            member_id=member_id, offset=offset)
    return redirect(f"{reverse('team-detail', args=[team.pk])}#members")


@require_POST
@manager_required
def team_member_remove(request, team_id: int, member_id: int):
    team = _or_404(selectors.team_get, organization=request.organization, team_id=team_id)
    member = _or_404(selectors.team_member_get, organization=request.organization, team=team,
                     member_id=member_id)
    team_services.team_member_remove(
        organization=request.organization,
        actor=request.membership, team_id=team.pk, member_id=member.pk
    )
    messages.success(request, _("%(name)s left the team.")
                     % {"name": member.membership.display_name})
    return redirect("team-detail", team_id=team.pk)


# --- business hours -------------------------------------------------------------------------


@manager_required
def team_hours(request, team_id: int):
    team = _or_404(selectors.team_for_hours, organization=request.organization, team_id=team_id)
    editor = BusinessHoursEditor(team=team, data=_posted(request))
    if request.method == "POST":
        if editor.is_valid():
            try:
                hours_services.team_hours_replace(
                    organization=request.organization,
                    actor=request.membership, team_id=team.pk, enabled=editor.enabled,
                    weekly=editor.weekly, exceptions=editor.exception_rows,
                )
            except ValidationError as exc:
                _messages_from(request, exc)
            else:
                messages.success(request, _("Business hours saved."))
                opens = editor.weekly or any(not e.is_closed for e in editor.exception_rows)
                if editor.enabled and not opens:
                    messages.warning(request, _("Business hours are on but the team never "
                                                "opens: its leads will not overflow."))
                return redirect("team-hours", team_id=team.pk)
        else:
            messages.error(request, _("Nothing was saved: correct the marked fields."))
    schedule = team_schedule(team, organization=request.organization)
    now = timezone.now()
    return render(request, "teams/team_hours.html", {
        "team": team,
        "tab": "hours",
        "editor": editor,
        "time_zone": request.organization.time_zone,
        "now": now,
        "is_open": schedule.is_open(now),
        "next_opening": schedule.next_opening(now),
    })


# --- people -----------------------------------------------------------------------------------


def _visibility_label(person: Membership) -> str:
    if person.is_manager:
        return _("All leads (manager)")
    follows = person.can_see_all is None
    sees = person.sees_all_leads
    if follows:
        return _("Organization: all leads") if sees else _("Organization: only assigned")
    return _("All leads") if sees else _("Only assigned")


@manager_required
def person_list(request):
    page = _page(request, selectors.people_list(organization=request.organization))
    for person in page:
        person.visibility_label = _visibility_label(person)
    return render(request, "teams/person_list.html", {"page": page})


@manager_required
def person_create(request):
    form = PersonCreateForm(_posted(request), actor=request.membership)
    if request.method == "POST" and form.is_valid():
        try:
            person, password = people.person_create(
                organization=request.organization, actor=request.membership,
                **{k: v for k, v in form.cleaned_data.items() if k != "password"},
                password=form.cleaned_data["password"] or None,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("%(name)s can sign in now as “%(username)s”.")
                             % {"name": person.display_name, "username": person.user.username})
            if password is None:
                return redirect("person-detail", membership_id=person.pk)
            # The generated password is shown on this answer only and never again.
            response = render(request, "teams/person_created.html",
                              {"person": person, "password": password})
            response["Cache-Control"] = "no-store"
            return response
    return render(request, "teams/person_form.html", {"form": form})


def _render_person(request, person, form=None, skills_form=None):
    return render(request, "teams/person_detail.html", {
        "person": person,
        "form": form or PersonForm(actor=request.membership, person=person),
        "skills_form": skills_form
        or PersonSkillsForm(organization=request.organization, person=person),
        "teams": person.team_memberships.select_related("team").order_by("team__name"),
        "is_me": person.pk == request.membership.pk,
        "visibility_label": _visibility_label(person),
        "can_hand_ownership": request.membership.role == Membership.Role.OWNER
        and person.role == Membership.Role.MANAGER and person.is_active,
    })


@manager_required
def person_detail(request, membership_id: int):
    person = _or_404(selectors.membership_get, organization=request.organization,
                     membership_id=membership_id)
    if request.method != "POST":
        return _render_person(request, person)
    form = PersonForm(request.POST, actor=request.membership, person=person)
    if form.is_valid():
        try:
            person = people.person_update(
                organization=request.organization, actor=request.membership,
                membership_id=person.pk, **form.cleaned_data,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("%(name)s: saved.") % {"name": person.display_name})
            if person.pk == request.membership.pk and not person.is_manager:
                return redirect("inbox")  # no longer a manager: these pages are closed now
            return redirect("person-detail", membership_id=person.pk)
    return _render_person(request, person, form)


@require_POST
@manager_required
def person_active(request, membership_id: int):
    person = _or_404(selectors.membership_get, organization=request.organization,
                     membership_id=membership_id)
    activate = request.POST.get("is_active") == "1"
    try:
        person = people.person_set_active(
            organization=request.organization, actor=request.membership,
            membership_id=person.pk, is_active=activate,
        )
    except ValidationError as exc:
        _messages_from(request, exc)
        return redirect("person-detail", membership_id=person.pk)
    if activate:
        messages.success(request, _("%(name)s is active again and back in their teams' "
                                    "rotation.") % {"name": person.display_name})
    else:
        messages.success(request, _("%(name)s is deactivated: out of every rotation; their "
                                    "open leads stay visible to managers.")
                         % {"name": person.display_name})
    if person.pk == request.membership.pk:
        return redirect("inbox")
    return redirect("person-detail", membership_id=person.pk)


@require_POST
@manager_required
def person_ownership(request, membership_id: int):
    """An owner hands ownership to a manager (and becomes a manager)."""
    person = _or_404(selectors.membership_get, organization=request.organization,
                     membership_id=membership_id)
    try:
        people.ownership_transfer(organization=request.organization, actor=request.membership,
                                  membership_id=person.pk)
    except ValidationError as exc:
        _messages_from(request, exc)
    else:
        messages.success(request, _("%(name)s is an owner now; you are a manager.")
                         % {"name": person.display_name})
    return redirect("person-detail", membership_id=person.pk)


@require_POST
@manager_required
def person_skills(request, membership_id: int):
    person = _or_404(selectors.membership_get, organization=request.organization,
                     membership_id=membership_id)
    form = PersonSkillsForm(request.POST, organization=request.organization, person=person)
    if form.is_valid():
        try:
            skills.person_skills_set(
                organization=request.organization,
                actor=request.membership, membership_id=person.pk,
                skills=form.cleaned_data["skills"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("%(name)s: skills saved.") % {"name": person.display_name})
            return redirect(f"{reverse('person-detail', args=[person.pk])}#skills")
    return _render_person(request, person, skills_form=form)


# --- skills -------------------------------------------------------------------------------------


@manager_required
def skill_list(request):
    form = SkillForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            skill = skills.skill_create(organization=request.organization,
                                        actor=request.membership, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Skill “%(name)s” created. Give it to people on their "
                                        "pages.") % {"name": skill.name})
            return redirect("person-skill-list")
    return render(request, "teams/skill_list.html", {
        "skills": selectors.skill_list(organization=request.organization),
        "form": form,
    })


@manager_required
def skill_delete(request, skill_id: int):
    skill = _or_404(selectors.skill_get, organization=request.organization, skill_id=skill_id)
    if request.method != "POST":
        return render(request, "teams/skill_delete.html", {"skill": skill})
    _or_404(skills.skill_delete, organization=request.organization,
            actor=request.membership, skill_id=skill.pk)
    messages.success(request, _("Skill “%(name)s” deleted.") % {"name": skill.name})
    return redirect("person-skill-list")


# --- API keys -----------------------------------------------------------------------------------


def _render_api_keys(request, form=None, created=None, raw_key=None, status=200):
    response = render(request, "teams/api_keys.html", {
        "keys": selectors.api_key_list(organization=request.organization),
        "form": form or ApiKeyForm(),
        "created": created,
        "raw_key": raw_key,
    }, status=status)
    if raw_key:
        response["Cache-Control"] = "no-store"
    return response


@manager_required
def api_key_list(request):
    return _render_api_keys(request)


@require_POST
@manager_required
def api_key_create(request):
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _render_api_keys(request, form=form)
    key, raw = keys.api_key_create(
        organization=request.organization, actor=request.membership, name=form.cleaned_data["name"],
        created_by=request.user,
    )
    # The raw key is on this answer only; the database keeps its hash.
    return _render_api_keys(request, created=key, raw_key=raw)


@manager_required
def api_key_revoke(request, key_id: int):
    key = _or_404(selectors.api_key_get, organization=request.organization, key_id=key_id)
    if request.method != "POST":
        return render(request, "teams/api_key_revoke.html", {"key": key})
    keys.api_key_revoke(organization=request.organization, actor=request.membership, key_id=key.pk)
    messages.success(request, _("Key “%(name)s” revoked: requests with it are refused from now "
                                "on.") % {"name": key.name})
    return redirect("api-key-list")


# --- organization settings --------------------------------------------------------------------


@manager_required
def organization_settings(request):
    organization = request.organization
    form = OrganizationForm(_posted(request), instance=organization)
    if request.method == "POST" and form.is_valid():
        try:
            organization_services.organization_update(
                organization=organization, actor=request.membership, **form.cleaned_data
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Organization settings saved."))
            return redirect("organization-settings")
    return render(request, "teams/organization_settings.html", {
        "form": form, "limits": selectors.organization_limits(organization=organization)})
