"""The managers' overflow policy page of a team."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from teams import selectors as team_selectors
from teams.models import Team
from teams.permissions import manager_required
from teams.web import posted as _posted

from . import rules
from .forms import TeamOverflowPolicyForm


@manager_required
def team_policy(request, team_id: int):
    try:
        team = team_selectors.team_get(organization=request.organization, team_id=team_id)
    except Team.DoesNotExist:
        raise Http404 from None
    form = TeamOverflowPolicyForm(_posted(request), team=team)
    if request.method == "POST":
        if form.is_valid():
            try:
                # policy_save: the policy, its chain and the audit event in one transaction
                form.save(actor=request.membership)
            except ValidationError as exc:  # the team changed since the form was checked
                form.add_error(None, exc)
            else:
                messages.success(request, _("Overflow policy saved."))
                return redirect("team-overflow", team_id=team.pk)
        messages.error(request, _("Nothing was saved: correct the marked fields."))
    return render(request, "overflow/team_policy.html", {
        "team": team,
        "tab": "overflow",
        "form": form,
        "active_count": team_selectors.team_active_attendant_count(team=team),
        "minimum": rules.MIN_ACTIVE_ATTENDANTS,
    })
