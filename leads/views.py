"""The attendants' pages: the inbox, a lead with its whole history, and its actions."""

from contextlib import nullcontext
from datetime import UTC, datetime
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from funnel.scoring import Score, score_text
from funnel.selectors import funnel_of
from history.models import LeadEvent
from history.selectors import lead_history
from history.services import Actor
from teams.models import Membership
from teams.permissions import member_required
from teams.services.people import preferences_set
from teams.web import next_url

from . import selectors, services
from .arrival import arrivals_explain
from .contact import contact_links
from .forms import ConcludeForm, InboxFilterForm, NoteForm, PreferencesForm, TransferForm
from .models import Lead
from .queue import presence_change

INBOX_PAGE_SIZE = 25


@require_POST
@member_required
def presence(request):
    """The attendant's own online / away / offline switch (leads follow presence)."""
    value = request.POST.get("presence", "")
    if value not in Membership.Presence.values:
        return HttpResponseBadRequest(_("Unknown presence."))
    presence_change(membership=request.membership, presence=value)
    messages.success(
        request,
        _("You are now %(presence)s.") % {"presence": Membership.Presence(value).label.lower()},
    )
    return redirect(next_url(request, default="inbox"))


@member_required
def preferences(request):
    """A person's own settings: e-mail when a lead reaches them, their language."""
    form = PreferencesForm(
        request.POST if request.method == "POST" else None, instance=request.membership
    )
    if request.method == "POST" and form.is_valid():
        language = form.cleaned_data["language"]
        preferences_set(
            membership=request.membership,
            email_notifications=form.cleaned_data["email_notifications"],
            sound_alerts=form.cleaned_data["sound_alerts"],
            language=language,
        )
        # The next page speaks the chosen language (or, when none, the browser's).
        with translation.override(language) if language else nullcontext():
            messages.success(request, _("Preferences saved."))
        response = redirect("preferences")
        if language:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE, secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY, path=settings.LANGUAGE_COOKIE_PATH)
        else:
            response.delete_cookie(settings.LANGUAGE_COOKIE_NAME,
                                   path=settings.LANGUAGE_COOKIE_PATH)
        return response
    return render(request, "leads/preferences.html", {"form": form})


@member_required
def home(request):
    # Where a login lands: managers on their dashboard (the reports app's /manage/),
    # attendants on their inbox.
    return redirect("dashboard" if request.membership.is_manager else "inbox")


@member_required
def inbox(request):
    membership = request.membership
    tabs = selectors.inbox_tabs(membership=membership)
    tab = request.GET.get("tab", "mine")
    if tab not in tabs:
        tab = "mine"
    filters = InboxFilterForm(request.GET or None, organization=membership.organization,
                              manager=membership.is_manager)
    data = filters.cleaned_data if filters.is_valid() else {}
    leads = selectors.inbox_leads(
        membership=membership,
        tab=tab,
        query=data.get("q", ""),
        team_slug=data.get("team", ""),
        # Past leads: open or concluded alike, unless the filter says which.
        status=data.get("status") or ("" if tab == "past" else Lead.Status.OPEN),
        stage=data.get("stage", ""),
        min_score=data.get("min_score"),
        sort=data.get("sort", ""),
        received_from=data.get("received_from"),
        received_to=data.get("received_to"),
        assignee_id=data.get("assignee"),
    )
    page = Paginator(leads, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    context = {
        "tab": tab,
        "tabs": [(t, TAB_LABELS[t]) for t in tabs],
        "counts": selectors.inbox_counts(membership=membership),
        "filters": filters,
        "page": page,
        "now": now,
        "query_string": _query_without(request, "page"),
        "refresh_query": _refresh_query(request, tab),
        "moved_away": _moved_away(request, membership),
        # The live stream (the live app, above this one: named by its URL, not imported).
        "live_url": reverse("live-inbox") if settings.LIVE_STREAM_SECONDS > 0 else "",
    }
    if not page.object_list:
        # An empty page says what comes next; a new organization's has no leads at all.
        context["no_leads_yet"] = not Lead.objects.for_org(membership.organization).exists()
    template = "leads/_inbox_list.html" if request.GET.get("partial") else "leads/inbox.html"
    return render(request, template, context)


TAB_LABELS = {
    "mine": gettext_lazy("Mine"),
    "unassigned": gettext_lazy("Unassigned"),
    "all": gettext_lazy("All"),
    "past": gettext_lazy("Past leads"),
}


def _query_without(request, key):
    params = request.GET.copy()
    params.pop(key, None)
    params.pop("partial", None)
    params.pop("since", None)
    return params.urlencode()


def _refresh_query(request, tab):
    params = request.GET.copy()
    params.pop("since", None)
    params["tab"] = tab
    params["partial"] = "1"
    return params.urlencode()


def _since(request) -> datetime | None:
    """The list's own ``data-now`` from its last refresh, in UTC.

    It only feeds a notice, so what cannot be read is ignored rather than refused:
    impossible dates (``2026-02-30``), offsets beyond a day, and instants that fall
    outside the calendar once moved to UTC.
    """
    try:
        since = parse_datetime(request.GET.get("since") or "")
        if since is None:
            return None
        if timezone.is_naive(since):
            since = timezone.make_aware(since)
        return since.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _moved_away(request, membership):
    """Leads that overflowed away from me since the page last refreshed (for a notice)."""
    since = _since(request)
    if since is None:
        return []
    return list(
        LeadEvent.objects.for_org(membership.organization)
        .filter(type=LeadEvent.Type.OVERFLOWED, from_member=membership, created_at__gt=since)
        .select_related("lead", "to_member__user")
        .order_by("created_at")[:10]
    )


class _MovedOn(Exception):
    """The lead is with someone else now, and this person once held it."""

    def __init__(self, lead):
        super().__init__(lead.pk)
        self.lead = lead


def _visible_lead(request, lead_id):
    membership = request.membership
    try:
        lead = selectors.lead_get(organization=membership.organization, lead_id=lead_id)
    except Lead.DoesNotExist:
        raise Http404 from None
    if not selectors.membership_can_view_lead(membership=membership, lead=lead):
        if selectors.membership_held_lead(membership=membership, lead_id=lead.pk):
            raise _MovedOn(lead)
        raise Http404  # as if it did not exist: nothing about it leaks
    return lead


def _lead_page(view):
    """An action on a lead that passed on from this person (a page left open) gets a page
    that says so instead of a bare 404, and changes nothing: a former holder may read the
    lead (``lead_detail``) but not act on it."""

    @wraps(view)
    def wrapper(request, lead_id: int):
        try:
            return view(request, lead_id)
        except _MovedOn:
            return render(request, "leads/moved_on.html", {"lead_id": lead_id}, status=403)

    return wrapper


@member_required
@_lead_page
def lead_detail(request, lead_id: int):
    membership = request.membership
    try:
        lead = _visible_lead(request, lead_id)
    except _MovedOn as moved:
        # One of my past leads: read only, with what happened to it since it left me.
        return _render_lead(request, moved.lead, past=True)
    if lead.assignee_id == membership.pk:
        # The assignee opening the lead is the access that stops overflow (rule 5).
        if services.lead_mark_accessed(
            organization=membership.organization,
            lead_id=lead.pk,
            membership=membership,
            actor=Actor.for_user(request.user),
        ):
            lead = selectors.lead_get(organization=membership.organization, lead_id=lead_id)
    return _render_lead(request, lead)


def _render_lead(request, lead, *, status=200, past=False, **forms):
    membership = request.membership
    organization = membership.organization
    events = list(lead_history(organization=organization, lead_id=lead.pk))
    funnel = funnel_of(organization=organization)
    score = Score(total=lead.score)
    for event in events:
        event.funnel_note = _funnel_note(event, funnel)
        # The card shows how the score is made up: the last scoring in the history.
        if event.type == LeadEvent.Type.SCORED:
            score = Score.from_dict(event.data)
        elif event.type == LeadEvent.Type.CREATED and "score" in event.data:
            score = Score.from_dict(event.data["score"])
    arrival = arrivals_explain(lead=lead, events=events)
    can_handle = not past and (membership.is_manager or lead.assignee_id == membership.pk)
    context = {
        "past": past,
        "left_me": _left_me(events, membership) if past else None,
        "lead": lead,
        "events": events,
        "arrival": arrival,
        "contact": contact_links(lead=lead, membership=membership),
        "funnel": funnel,
        "score_parts": score.parts if score.total == lead.score else (),
        "now": timezone.now(),
        "can_handle": can_handle,
        "can_take": not past and lead.assignee_id is None and lead.status == Lead.Status.OPEN,
        "transfer_form": forms.get("transfer_form")
        or TransferForm(organization=organization, lead=lead),
        "note_form": forms.get("note_form") or NoteForm(),
        "conclude_form": forms.get("conclude_form") or ConcludeForm(organization=organization),
    }
    return render(request, "leads/detail.html", context, status=status)


def _left_me(events, membership):
    """The last event by which the lead passed on from this person."""
    return next((e for e in reversed(events) if e.from_member_id == membership.pk), None)


def _funnel_note(event, funnel) -> str:
    """A stage change or a score in words, for the timeline."""
    data = event.data or {}
    if event.type == LeadEvent.Type.STAGE_CHANGED:
        labels = [funnel.stage_label(data.get(end, "")) for end in ("from", "to")]
        text = " → ".join(labels)
        if data.get("lost_reason"):
            text += f" · {funnel.reason_label(data['lost_reason'])}"
        return text
    if event.type == LeadEvent.Type.SCORED:
        return _("Score %(old)d → %(new)d: %(parts)s") % {
            "old": data.get("from", 0), "new": data.get("total", 0),
            "parts": score_text(Score.from_dict(data))}
    if event.type == LeadEvent.Type.CREATED and (data.get("score") or {}).get("parts"):
        score = Score.from_dict(data["score"])
        return _("Score %(total)d: %(parts)s") % {"total": score.total,
                                                   "parts": score_text(score)}
    return ""


def _act(request, lead, action, success_message):
    """Run one service; a refusal becomes an error message on the lead page."""
    try:
        action()
    except services.ActionRefused as refused:
        messages.error(request, str(refused))
    except ValidationError as refused:  # the funnel changed under the page (a stage, a reason)
        for message in refused.messages:
            messages.error(request, message)
    else:
        messages.success(request, success_message)
        lead.refresh_from_db()
        if not selectors.membership_can_view_lead(membership=request.membership, lead=lead):
            return redirect("inbox")  # handed to someone else: it is no longer mine to see
    return redirect("lead-detail", lead_id=lead.pk)


@require_POST
@member_required
@_lead_page
def lead_assign_to_me(request, lead_id: int):
    lead = _visible_lead(request, lead_id)
    return _act(
        request, lead,
        lambda: services.lead_assign_to_me(
            organization=request.organization, lead_id=lead.pk, membership=request.membership
        ),
        _("The lead is yours."),
    )


@require_POST
@member_required
@_lead_page
def lead_transfer(request, lead_id: int):
    lead = _visible_lead(request, lead_id)
    form = TransferForm(request.POST, organization=request.organization, lead=lead)
    if not form.is_valid():
        return _render_lead(request, lead, status=400, transfer_form=form)
    data = form.cleaned_data
    return _act(
        request, lead,
        lambda: services.lead_transfer(
            organization=request.organization, lead_id=lead.pk, membership=request.membership,
            to_member=data.get("to_member"), to_team=data.get("to_team"), note=data["note"],
        ),
        _("Lead transferred."),
    )


@require_POST
@member_required
@_lead_page
def lead_conclude(request, lead_id: int):
    lead = _visible_lead(request, lead_id)
    form = ConcludeForm(request.POST, organization=request.organization)
    if not form.is_valid():
        return _render_lead(request, lead, status=400, conclude_form=form)
    data = form.cleaned_data
    return _act(
        request, lead,
        lambda: services.lead_conclude(
            organization=request.organization, lead_id=lead.pk, membership=request.membership,
            note=data["note"], outcome=data["outcome"], lost_reason=data["lost_reason"],
        ),
        {"customer": _("Lead concluded: won."), "lost": _("Lead concluded: lost.")}.get(
            data["outcome"], _("Lead concluded.")),
    )


@require_POST
@member_required
@_lead_page
def lead_stage(request, lead_id: int):
    """One click on a stage button of the lead page."""
    lead = _visible_lead(request, lead_id)
    stage = request.POST.get("stage", "")
    return _act(
        request, lead,
        lambda: services.lead_stage_change(
            organization=request.organization, lead_id=lead.pk, stage=stage,
            actor=Actor.for_user(request.user), membership=request.membership,
        ),
        _("Stage: %(stage)s.") % {
            "stage": funnel_of(organization=request.organization).stage_label(stage)},
    )


@require_POST
@member_required
@_lead_page
def lead_reopen(request, lead_id: int):
    lead = _visible_lead(request, lead_id)
    return _act(
        request, lead,
        lambda: services.lead_reopen(
            organization=request.organization, lead_id=lead.pk, membership=request.membership
        ),
        _("Lead reopened."),
    )


@require_POST
@member_required
@_lead_page
def lead_note(request, lead_id: int):
    lead = _visible_lead(request, lead_id)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _render_lead(request, lead, status=400, note_form=form)
    return _act(
        request, lead,
        lambda: services.lead_add_note(
            organization=request.organization, lead_id=lead.pk, membership=request.membership,
            text=form.cleaned_data["text"],
        ),
        _("Note added."),
    )
