from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leads import selectors as lead_selectors
from leads.models import Lead
from teams.permissions import manager_required, member_required

from . import services
from .selectors import checklist


@member_required
def home(request):
    """Where a login lands: a new organization's managers on the first steps until they are
    done, other managers on their dashboard, attendants on their inbox."""
    if not request.membership.is_manager:
        return redirect("inbox")
    if services.first_steps_open(organization=request.organization):
        return redirect("onboarding-start")
    return redirect("dashboard")


@manager_required
def start(request):
    organization = request.organization
    steps = checklist(organization=organization)
    test_lead = None
    if lead_id := request.GET.get("lead", ""):
        if not lead_id.isdigit():
            raise Http404
        try:  # only this organization's leads: another's id is a 404
            test_lead = lead_selectors.lead_get(organization=organization, lead_id=int(lead_id))
        except Lead.DoesNotExist:
            raise Http404 from None
    if organization.first_steps_pending and all(step.done for step in steps):
        services.first_steps_finish(organization=organization)
    return render(request, "onboarding/start.html", {
        "steps": steps, "done": sum(step.done for step in steps), "test_lead": test_lead,
        "pending": organization.first_steps_pending,
    })


@require_POST
@manager_required
def test_lead(request):
    lead = services.test_lead_send(organization=request.organization,
                                   membership=request.membership)
    messages.success(request, _("Test lead sent."))
    return redirect(f"{reverse('onboarding-start')}?lead={lead.pk}#test-lead")


@require_POST
@manager_required
def dismiss(request):
    services.first_steps_finish(organization=request.organization)
    messages.success(request, _("The first steps are hidden; they stay at this address."))
    return redirect("dashboard")
