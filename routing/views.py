"""The managers' routing pages: the organization's rules, and each team's preview.

Every page is for owners and managers of request.organization; each object is
looked up inside it, so another organization's id is a 404.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from teams import selectors as team_selectors
from teams.permissions import manager_required
from teams.web import or_404 as _or_404
from teams.web import posted as _posted

from . import selectors_rules, services_rules
from .forms import SUGGESTED_FIELDS, RoutingRuleForm, condition_text
from .services import preview

PREVIEW_COUNT = 10


# --- routing rules --------------------------------------------------------------------------


@manager_required
def rule_list(request):
    rules = list(selectors_rules.rule_list(organization=request.organization))
    for rule in rules:
        rule.described_conditions = [condition_text(c) for c in rule.conditions]
    default_team = request.organization.default_team
    return render(request, "routing/rule_list.html", {
        "rules": rules, "default_team": default_team,
    })


def _render_form(request, form, rule=None):
    return render(request, "routing/rule_form.html", {
        "form": form, "rule": rule, "suggested_fields": SUGGESTED_FIELDS,
    })


@manager_required
def rule_create(request):
    form = RoutingRuleForm(_posted(request), organization=request.organization)
    if request.method == "POST":
        if form.is_valid():
            try:
                rule = services_rules.routing_rule_create(
                    organization=request.organization, actor=request.membership, **form.rule_data
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Rule “%(name)s” created. It is tried last; move "
                                            "it up to try it earlier.") % {"name": rule.name})
                return redirect("routing-rule-list")
        messages.error(request, _("Nothing was saved: correct the marked fields."))
    return _render_form(request, form)


@manager_required
def rule_edit(request, rule_id: int):
    rule = _or_404(selectors_rules.rule_get, organization=request.organization, rule_id=rule_id)
    form = RoutingRuleForm(_posted(request), organization=request.organization, rule=rule)
    if request.method == "POST":
        if form.is_valid():
            try:
                services_rules.routing_rule_update(
                    organization=request.organization,
                    actor=request.membership, rule_id=rule.pk, **form.rule_data
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Rule saved."))
                return redirect("routing-rule-list")
        messages.error(request, _("Nothing was saved: correct the marked fields."))
    return _render_form(request, form, rule)


@require_POST
@manager_required
def rule_move(request, rule_id: int):
    offset = {"up": -1, "down": 1}.get(request.POST.get("direction", ""))
    if offset is None:
        return HttpResponseBadRequest(_("Unknown direction."))
    _or_404(services_rules.routing_rule_move, organization=request.organization,
            actor=request.membership,
            rule_id=rule_id, offset=offset)
    return redirect(f"{reverse('routing-rule-list')}#rule-{rule_id}")


@manager_required
def rule_delete(request, rule_id: int):
    rule = _or_404(selectors_rules.rule_get, organization=request.organization, rule_id=rule_id)
    if request.method != "POST":
        return render(request, "routing/rule_delete.html", {"rule": rule})
    _or_404(services_rules.routing_rule_delete, organization=request.organization,
            actor=request.membership,
            rule_id=rule.pk)
    messages.success(request, _("Rule “%(name)s” deleted.") % {"name": rule.name})
    return redirect("routing-rule-list")


# --- a team's preview -------------------------------------------------------------------------


@manager_required
def team_preview(request, team_id: int):
    team = _or_404(team_selectors.team_get, organization=request.organization, team_id=team_id)
    picks = preview(team=team, count=PREVIEW_COUNT)
    counts = selectors_rules.open_counts_of(members=picks)
    # Each row says what the person would hold once that lead is theirs: a count repeated
    # unchanged on every row read as if the leads went nowhere.
    after = []
    for member in picks:
        counts[member.membership_id] = counts.get(member.membership_id, 0) + 1
        after.append((member, counts[member.membership_id]))
    return render(request, "routing/team_preview.html", {
        "team": team,
        "tab": "preview",
        "picks": after,
        "count": PREVIEW_COUNT,
        "bench": selectors_rules.team_bench(team=team),
    })
