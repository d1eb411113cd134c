"""The managers' funnel pages: the stages and lost reasons, and the scoring rules with a
preview of the score a sample lead would get.

Every page is for owners and managers of request.organization; each row is looked up
inside it, so another organization's id or key is a 404.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from routing import selectors_rules
from routing.forms import SUGGESTED_FIELDS, condition_text
from teams.permissions import manager_required
from teams.web import or_404, posted

from . import scoring, selectors, services
from .forms import NameForm, ScorePreviewForm, ScoringRuleForm
from .models import Stage

OFFSETS = {"up": -1, "down": 1}


def _errors(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# --- stages and lost reasons ------------------------------------------------------------


@manager_required
def stages(request):
    organization = request.organization
    stage_rows = list(selectors.stage_list(organization=organization))
    middle = [s.pk for s in stage_rows if s.kind == Stage.Kind.MIDDLE]
    return render(request, "funnel/stages.html", {
        "tab": "stages",
        "stages": stage_rows,
        "first_middle": middle[0] if middle else None,
        "last_middle": middle[-1] if middle else None,
        "built_in": Stage.BUILT_IN,
        "reasons": selectors.lost_reason_list(organization=organization),
        "stage_form": NameForm(auto_id="new-stage-%s"),
        "reason_form": NameForm(auto_id="new-reason-%s"),
    })


def _name_action(request, service, success, **kwargs):
    """Run a service that takes a name from the posted form; refusals become messages."""
    form = NameForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("The name is too long."))
    try:
        or_404(service, organization=request.organization, name=form.cleaned_data["name"],
               actor=request.membership, **kwargs)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, success)
    return redirect("funnel-stages")


@require_POST
@manager_required
def stage_create(request):
    return _name_action(request, services.stage_create,
                        _("Stage added, last before the customer stage."))


@require_POST
@manager_required
def stage_rename(request, key: str):
    return _name_action(request, services.stage_rename, _("Stage renamed."), key=key)


@require_POST
@manager_required
def stage_move(request, key: str):
    offset = OFFSETS.get(request.POST.get("direction", ""))
    if offset is None:
        return HttpResponseBadRequest(_("Unknown direction."))
    try:
        or_404(services.stage_move, organization=request.organization, key=key, offset=offset,
               actor=request.membership)
    except ValidationError as exc:
        _errors(request, exc)
    return redirect(f"{reverse('funnel-stages')}#stage-{key}")


@require_POST
@manager_required
def stage_active(request, key: str):
    is_active = request.POST.get("is_active") == "1"
    try:
        or_404(services.stage_set_active, organization=request.organization, key=key,
               is_active=is_active, actor=request.membership)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("Stage back in use.") if is_active else _(
            "Stage archived: leads in it keep it; nobody can move a lead into it."))
    return redirect("funnel-stages")


@require_POST
@manager_required
def lost_reason_create(request):
    return _name_action(request, services.lost_reason_create, _("Lost reason added."))


@require_POST
@manager_required
def lost_reason_rename(request, key: str):
    return _name_action(request, services.lost_reason_rename, _("Lost reason renamed."),
                        key=key)


@require_POST
@manager_required
def lost_reason_active(request, key: str):
    is_active = request.POST.get("is_active") == "1"
    try:
        or_404(services.lost_reason_set_active, organization=request.organization, key=key,
               is_active=is_active, actor=request.membership)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("Lost reason offered again.") if is_active else _(
            "Lost reason archived: leads lost for it keep it."))
    return redirect("funnel-stages")


# --- scoring rules ------------------------------------------------------------------------


@manager_required
def scoring_rule_list(request):
    organization = request.organization
    rules = list(selectors.scoring_rule_list(organization=organization))
    for rule in rules:
        rule.described_conditions = [condition_text(c) for c in rule.conditions]
        rule.points_text = scoring.signed(rule.points)
    form = ScorePreviewForm(request.GET if "preview" in request.GET else None)
    preview = routing_rule = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        preview = selectors.score_preview(organization=organization, **data)
        if preview.routing_rule_id is not None:
            routing_rule = or_404(selectors_rules.rule_get, organization=organization,
                                  rule_id=preview.routing_rule_id)
    return render(request, "funnel/scoring_rule_list.html", {
        "tab": "scoring", "rules": rules, "preview_form": form, "preview": preview,
        "routing_rule": routing_rule,
    }, status=400 if form.is_bound and not form.is_valid() else 200)


def _render_rule_form(request, form, rule=None, status=200):
    return render(request, "funnel/scoring_rule_form.html", {
        "tab": "scoring", "form": form, "rule": rule,
        "suggested_fields": [f for f in SUGGESTED_FIELDS if f in scoring.SCORING_FIELDS
                             or f.startswith("custom.")],
    }, status=status)


@manager_required
def scoring_rule_create(request):
    form = ScoringRuleForm(posted(request))
    if request.method == "POST":
        if form.is_valid():
            try:
                rule = services.scoring_rule_create(organization=request.organization,
                                                    actor=request.membership, **form.rule_data)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Scoring rule “%(name)s” created. It counts for "
                                            "leads from now on.") % {"name": rule.name})
                return redirect("funnel-scoring-rule-list")
        messages.error(request, _("Nothing was saved: correct the marked fields."))
        return _render_rule_form(request, form, status=400)
    return _render_rule_form(request, form)


@manager_required
def scoring_rule_edit(request, rule_id: int):
    rule = or_404(selectors.scoring_rule_get, organization=request.organization, rule_id=rule_id)
    form = ScoringRuleForm(posted(request), rule=rule)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.scoring_rule_update(organization=request.organization, rule_id=rule.pk,
                                             actor=request.membership, **form.rule_data)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Scoring rule saved."))
                return redirect("funnel-scoring-rule-list")
        messages.error(request, _("Nothing was saved: correct the marked fields."))
        return _render_rule_form(request, form, rule, status=400)
    return _render_rule_form(request, form, rule)


@manager_required
def scoring_rule_delete(request, rule_id: int):
    rule = or_404(selectors.scoring_rule_get, organization=request.organization, rule_id=rule_id)
    if request.method != "POST":
        return render(request, "funnel/scoring_rule_delete.html", {"tab": "scoring",
                                                                   "rule": rule})
    or_404(services.scoring_rule_delete, organization=request.organization, rule_id=rule.pk,
           actor=request.membership)
    messages.success(request, _("Scoring rule “%(name)s” deleted.") % {"name": rule.name})
    return redirect("funnel-scoring-rule-list")

