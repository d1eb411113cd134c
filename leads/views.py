"""The attendant's pages: own leads and a lead with its whole history."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render

from history.selectors import lead_history
from history.services import Actor

from . import selectors, services
from .models import Lead


def _membership(request):
    if request.membership is None:
        raise PermissionDenied("You are not a member of any organization.")
    return request.membership


def can_view_lead(*, membership, lead: Lead) -> bool:
    return (
        membership.is_manager
        or lead.assignee_id == membership.pk
        or membership.organization.attendants_see_all
    )


@login_required
def home(request):
    return redirect("inbox")


@login_required
def inbox(request):
    membership = _membership(request)
    leads = (
        selectors.lead_list(organization=membership.organization)
        .filter(assignee=membership, status=Lead.Status.OPEN)
        .order_by("overflow_due_at", "-created_at")[:200]
    )
    return render(request, "leads/inbox.html", {"leads": leads, "membership": membership})


@login_required
def lead_detail(request, lead_id: int):
    membership = _membership(request)
    try:
        lead = selectors.lead_get(organization=membership.organization, lead_id=lead_id)
    except Lead.DoesNotExist:
        raise Http404 from None
    if not can_view_lead(membership=membership, lead=lead):
        raise Http404
    if lead.assignee_id == membership.pk:
        # The assignee opening the lead is the access that stops overflow (rule 5).
        if services.lead_mark_accessed(
            organization=membership.organization,
            lead_id=lead.pk,
            membership=membership,
            actor=Actor.for_user(request.user),
        ):
            lead = selectors.lead_get(organization=membership.organization, lead_id=lead_id)
    events = list(lead_history(organization=membership.organization, lead_id=lead.pk))
    reasons = dict(Lead.OverflowReason.choices)
    for event in events:
        event.reason_label = reasons.get(event.reason, event.reason)
    return render(
        request, "leads/detail.html", {"lead": lead, "events": events, "membership": membership}
    )
