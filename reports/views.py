"""The managers' dashboard and the CSV exports of its tables and of the leads list."""

from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from leads.models import Lead
from leads.selectors import inbox_leads, inbox_tabs
from teams.permissions import manager_required

from . import charts, exports, selectors
from .formatting import duration, percent
from .forms import PRESET_LABELS, AttendantExportForm, LeadExportForm, ReportFilterForm

# The per-attendant charts sit side by side: a narrower drawing keeps their text legible.
BAR_WIDTH, BAR_LEFT = 440, 120


@manager_required
def dashboard(request):
    """The first screen a manager sees: how fast their people open leads, and who lets them
    slip, for a range of days (in the URL, to share) and a team."""
    form = ReportFilterForm(request.GET, organization=request.organization)
    context = {"form": form}
    status = 200
    if form.is_valid():
        data = form.cleaned_data
        summary = selectors.summary(organization=request.organization,
                                    date_range=data["date_range"], team=data["team"])
        funnel = selectors.funnel(organization=request.organization,
                                  date_range=data["date_range"], team=data["team"])
        team_names = {t.pk: t.name for t in form.teams}
        context.update(
            summary=summary,
            funnel=funnel,
            funnel_chart=_funnel_chart(funnel),
            charts=_charts(summary),
            sources=[(Lead.Source(row.source).label, row.received) for row in summary.by_source],
            by_team=[(team_names.get(pk, _("No team")), n) for pk, n in summary.by_team],
            # Shown once some lead came in by a lead source (an intake URL).
            by_origin=[(row.name if row.origin is not None else _("No lead source"),
                        row.received) for row in summary.by_origin]
            if any(row.origin is not None for row in summary.by_origin) else [],
            query=form.query(),
            presets=[(key, label, _preset_query(form, key))
                     for key, label in PRESET_LABELS.items()],
        )
    else:
        status = 400
    return render(request, "reports/dashboard.html", context, status=status)


def _preset_query(form, preset: str) -> str:
    team = form.cleaned_data.get("team")
    return f"preset={preset}" + (f"&team={team.slug}" if team else "")


def _charts(summary) -> dict:
    days = summary.leads_by_day
    per_day = charts.line_chart(
        labels=[date_format(day.date, "SHORT_DATE_FORMAT") for day in days],
        series=[
            charts.Series("received", _("Received"), [day.received for day in days]),
            charts.Series("opened", _("Opened"), [day.opened for day in days]),
            charts.Series("overflowed", _("Overflowed"), [day.overflowed for day in days]),
        ],
    )
    reached = [a for a in summary.attendants if a.received]
    waits = charts.bar_chart(width=BAR_WIDTH, left=BAR_LEFT, tick_text=duration,
                             steps=charts.DURATION_STEPS, rows=[
        charts.BarRow(a.name, [
            charts.Bar("median", _("Median"), a.p50_service_seconds,
                       duration(a.p50_service_seconds)),
            charts.Bar("p90", _("p90"), a.p90_service_seconds, duration(a.p90_service_seconds)),
        ]) for a in reached
    ])
    rates = charts.bar_chart(width=BAR_WIDTH, left=BAR_LEFT,
                             tick_text=lambda share: percent(share / 100), rows=[
        charts.BarRow(a.name, [
            charts.Bar("rate", _("Overflow rate"), 100 * a.overflow_rate,
                       percent(a.overflow_rate)),
        ]) for a in reached
    ])
    return {"per_day": per_day, "waits": waits, "rates": rates}


def _funnel_chart(funnel) -> charts.BarChart:
    return charts.bar_chart(width=BAR_WIDTH, left=BAR_LEFT, min_step=1, rows=[
        charts.BarRow(step.label, [charts.Bar("reached", _("Reached"), step.reached,
                                              str(step.reached))])
        for step in funnel.steps
    ])


def _bad_request(form) -> HttpResponseBadRequest:
    lines = [f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()]
    return HttpResponseBadRequest("\n".join(lines), content_type="text/plain; charset=utf-8")


def _separator(form) -> str:
    """As asked; else what a spreadsheet in the page's language expects."""
    chosen = form.cleaned_data.get("separator")
    if not chosen:
        chosen = "semicolon" if translation.get_language() == "pt-br" else "comma"
    return exports.SEPARATORS[chosen]


def _filename(kind: str, date_range) -> str:
    if date_range is None:
        return f"{kind}.csv"
    return f"{kind}-{date_range.start.isoformat()}-{date_range.end.isoformat()}.csv"


@manager_required
def leads_csv(request):
    """The leads list with the inbox's filters (tab, search, team, status) and the
    dashboard's range, as CSV."""
    membership = request.membership
    form = LeadExportForm(request.GET, organization=request.organization, default_preset=None)
    if not form.is_valid():
        return _bad_request(form)
    data = form.cleaned_data
    tab = data["tab"] if data["tab"] in inbox_tabs(membership=membership) else "all"
    leads = inbox_leads(
        membership=membership, tab=tab, query=data["q"],
        team_slug=data["team"].slug if data["team"] else "", status=data["status"],
    )
    if data["date_range"] is not None:
        bounds = data["date_range"].bounds(request.organization.tzinfo)
        leads = leads.filter(created_at__gte=bounds[0], created_at__lt=bounds[1])
    lines = exports.csv_lines(
        columns=exports.LEAD_COLUMNS, rows=exports.lead_rows(leads.order_by("-created_at", "-id")),
        tz=request.organization.tzinfo, separator=_separator(form),
    )
    return exports.csv_response(lines, filename=_filename("leads", data["date_range"]))


@manager_required
def attendants_csv(request):
    """The dashboard's per-attendant table, as CSV."""
    form = AttendantExportForm(request.GET, organization=request.organization)
    if not form.is_valid():
        return _bad_request(form)
    data = form.cleaned_data
    summary = selectors.summary(organization=request.organization,
                                date_range=data["date_range"], team=data["team"])
    lines = exports.csv_lines(
        columns=exports.ATTENDANT_COLUMNS, rows=summary.attendants,
        tz=request.organization.tzinfo, separator=_separator(form),
    )
    return exports.csv_response(lines, filename=_filename("attendants", data["date_range"]))
