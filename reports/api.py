"""The reports API: the summary the dashboard shows, and the leads as CSV.

Any key of the organization may read them (managers' keys are organization keys).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import renderers, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import QuerySerializer
from leads.api.views import LeadFilterSerializer
from leads.models import Lead
from leads.selectors import lead_list
from teams.models import Team

from . import definitions as d
from . import exports, selectors

DEFAULT_DAYS = 30
# An export with a `to` and no `from` starts here.
OPEN_START = date(1900, 1, 1)


class _FromField:
    """``from`` is a Python keyword: serializers with it add it in ``get_fields``."""

    from_field: serializers.Field

    def get_fields(self):
        return {"from": self.from_field, **super().get_fields()}


def _date(**kwargs):
    return serializers.DateField(input_formats=["%Y-%m-%d"], **kwargs)


class RangeQuerySerializer(_FromField, QuerySerializer):
    """from/to (dates in the organization's calendar, both included) and a team slug."""

    to = _date(required=False, help_text="Last day, included (default: today).")
    team = serializers.SlugField(required=False, help_text="Only the leads of this team.")

    # Summaries default to the last 30 days; exports to every lead.
    max_days: int | None = d.MAX_RANGE_DAYS
    default_days: int | None = DEFAULT_DAYS

    @property
    def from_field(self):
        return _date(required=False, help_text="First day, included (default: 29 days before "
                                                "`to`).")

    def validate(self, data):
        organization = self.context["organization"]
        start, end = data.get("from"), data.get("to")
        date_range = None
        if start or end or self.default_days:
            end = end or d.local_today(organization.tzinfo, timezone.now())
            if start is None:
                start = (end - timedelta(days=self.default_days - 1) if self.default_days
                         else OPEN_START)
            try:
                date_range = d.date_range(start, end, max_days=self.max_days)
            except d.RangeError as exc:
                raise serializers.ValidationError({exc.parameter: [exc.message]}) from exc
        team = None
        if data.get("team"):
            team = Team.objects.for_org(organization).filter(slug=data["team"]).first()
            if team is None:
                raise serializers.ValidationError(
                    {"team": [_("No team with this slug in your organization.")]})
        return {**data, "date_range": date_range, "team": team}


class ExportQuerySerializer(RangeQuerySerializer, LeadFilterSerializer):
    """The filters of ``GET /api/v1/leads``, a date range, and the separator."""

    separator = serializers.ChoiceField(
        choices=list(exports.SEPARATORS), default="comma",
        help_text="`semicolon` for spreadsheets that use a decimal comma (Excel in Brazil).",
    )
    max_days = None
    default_days = None

    @property
    def from_field(self):
        return _date(required=False, help_text="First day, included (default: no limit).")


# --- the answer ---------------------------------------------------------------------------


class Seconds(serializers.FloatField):
    """Seconds, to a tenth; null when there is nothing to measure."""

    def __init__(self, **kwargs):
        super().__init__(allow_null=True, **kwargs)

    def to_representation(self, value):
        return None if value is None else round(float(value), 1)


class DaySerializer(serializers.Serializer):
    date = serializers.DateField()
    received = serializers.IntegerField(help_text="Leads created this day.")
    opened = serializers.IntegerField(help_text="Of those, opened by their holder (so far).")
    overflowed = serializers.IntegerField(help_text="Of those, overflowed at least once.")


class SourceSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=Lead.Source.choices)
    received = serializers.IntegerField()


class OriginCountSerializer(serializers.Serializer):
    origin = serializers.IntegerField(
        allow_null=True, help_text="Id of the lead source (`/api/v1/sources`); null for the "
        "leads that came in by none (the API, people, imports).")
    name = serializers.CharField(help_text="The lead source's name; empty when none.")
    received = serializers.IntegerField()


class FirstAccessSerializer(serializers.Serializer):
    opened = serializers.IntegerField(help_text="Leads received that their holder opened.")
    never_opened = serializers.IntegerField(help_text="Leads received never opened (yet).")
    p50_seconds = Seconds(help_text="Median from creation to first opening, wall clock.")
    p90_seconds = Seconds(help_text="90th percentile, wall clock.")
    p50_service_seconds = Seconds(
        help_text="Median counting only the team's business hours (the overflow's clock).")
    p90_service_seconds = Seconds(help_text="90th percentile in business hours.")


class OverflowSerializer(serializers.Serializer):
    leads_overflowed = serializers.IntegerField(
        help_text="Leads received that overflowed at least once.")
    rate = serializers.FloatField(
        allow_null=True, help_text="leads_overflowed / leads_received (0 to 1); null for none.")
    transfers = serializers.IntegerField(help_text="Overflow transfers of those leads.")
    all_tried = serializers.IntegerField(
        help_text="Leads whose overflow stopped because every attendant had held them.")


class AttendantSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Membership id, as in a lead's `assignee.id`.")
    name = serializers.CharField()
    received = serializers.IntegerField(help_text="Times a lead received in the range reached "
                                                  "them (new, overflowed, transferred, taken).")
    opened = serializers.IntegerField(help_text="Of those, times they opened it as its holder.")
    p50_seconds = Seconds(help_text="Median from reaching them to their opening it.")
    p90_seconds = Seconds(help_text="90th percentile from reaching them to their opening it.")
    p50_service_seconds = Seconds(help_text="The median in business hours.")
    p90_service_seconds = Seconds(help_text="The 90th percentile in business hours.")
    missed = serializers.IntegerField(help_text="Times one overflowed away from them.")
    concluded = serializers.IntegerField(help_text="Leads received they hold, concluded.")
    open_now = serializers.IntegerField(help_text="Leads received they hold, open now.")


class QueueSerializer(serializers.Serializer):
    waiting_now = serializers.IntegerField(help_text="Open leads nobody holds, now.")
    longest_wait_seconds = serializers.IntegerField(
        allow_null=True, help_text="Since the oldest of them arrived; null when none waits.")


class SummarySerializer(_FromField, serializers.Serializer):
    """What the managers' dashboard shows, for the leads received in the range."""

    to = serializers.DateField(source="range.end")
    team = serializers.SlugField(source="team.slug", allow_null=True)
    time_zone = serializers.CharField(help_text="The organization's: days run midnight to "
                                                "midnight there.")
    leads_received = serializers.IntegerField()
    leads_by_day = DaySerializer(many=True, help_text="Every day of the range, oldest first.")
    by_source = SourceSerializer(many=True)
    by_origin = OriginCountSerializer(
        many=True, help_text="The lead sources (intake URLs) that brought leads, most first, "
        "then the leads that came in by none.")
    time_to_first_access = FirstAccessSerializer()
    overflow = OverflowSerializer()
    attendants = AttendantSerializer(many=True)
    queue = QueueSerializer(help_text="Now, whatever day its leads arrived.")

    @property
    def from_field(self):
        return serializers.DateField(source="range.start")


class CSVRenderer(renderers.BaseRenderer):
    """Lets clients ask for ``text/csv``; the CSV itself is streamed by the view, and errors
    are answered as JSON (``LeadExportView.handle_exception``)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return renderers.JSONRenderer().render(data)


class SummaryView(APIView):
    """The managers' dashboard as JSON."""

    @extend_schema(
        operation_id="reports_summary",
        parameters=[RangeQuerySerializer],
        responses={
            200: SummarySerializer,
            400: OpenApiResponse(description="A bad parameter, named: `from`/`to` not a date, "
                                             "`to` before `from`, a range over 366 days, or "
                                             "an unknown team."),
        },
        description=(
            "Figures for the leads received (created) in the range, dates inclusive in the "
            "organization's time zone, optionally of one team: per day, per source, time to "
            "first access, overflow, per attendant; and the waiting queue now."
        ),
    )
    def get(self, request):
        organization = request.user.organization
        query = RangeQuerySerializer(data=request.query_params,
                                     context={"organization": organization})
        query.is_valid(raise_exception=True)
        summary = selectors.summary(organization=organization,
                                    date_range=query.validated_data["date_range"],
                                    team=query.validated_data["team"])
        return Response(SummarySerializer(summary).data)


class LeadExportView(APIView):
    """The leads as CSV, streamed."""

    renderer_classes = [renderers.JSONRenderer, CSVRenderer]

    def handle_exception(self, exc):
        """Errors are JSON, as on every operation, even for a client that asked for CSV."""
        response = super().handle_exception(exc)
        self.request.accepted_renderer = renderers.JSONRenderer()
        self.request.accepted_media_type = self.request.accepted_renderer.media_type
        return response

    @extend_schema(
        operation_id="leads_export",
        parameters=[ExportQuerySerializer],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="UTF-8 with a byte-order mark, one header line of the column "
                            "names, then one line per lead, newest first; times in the "
                            "organization's time zone. Text that a spreadsheet would run "
                            "as a formula starts with an apostrophe."),
            400: OpenApiResponse(description="A bad parameter, named."),
        },
        description="The leads of `GET /api/v1/leads` with the same filters, plus a range of "
                    "days they were received in, as CSV.",
    )
    def get(self, request):
        organization = request.user.organization
        query = ExportQuerySerializer(data=request.query_params,
                                      context={"organization": organization})
        query.is_valid(raise_exception=True)
        data = query.validated_data
        filters = {k: v for k, v in data.items()
                   if k in ("status", "assignee", "external_id", "stage", "min_score")}
        leads = lead_list(organization=organization, filters=filters)
        if data["date_range"] is not None:
            bounds = data["date_range"].bounds(organization.tzinfo)
            leads = leads.filter(d.received(organization, bounds, team=data["team"]))
        elif data["team"] is not None:
            leads = leads.filter(team=data["team"])
        lines = exports.csv_lines(
            columns=exports.LEAD_COLUMNS, rows=exports.lead_rows(leads), labels=False,
            tz=organization.tzinfo, separator=exports.SEPARATORS[data["separator"]],
        )
        return exports.csv_response(lines, filename="leads.csv")


# --- the funnel ------------------------------------------------------------------------------


class FunnelStepSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The stage's key.")
    name = serializers.CharField(source="label")
    reached = serializers.IntegerField(
        help_text="Leads received that were ever moved into this stage or one past it (the "
                  "first stage: every lead received).")
    conversion = serializers.FloatField(
        allow_null=True, help_text="reached / the previous stage's reached (0 to 1); null on "
                                   "the first stage or when none reached the previous one.")


class ReasonCountSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    count = serializers.IntegerField()


class OutcomesSerializer(serializers.Serializer):
    won = serializers.IntegerField(help_text="In the customer stage now.")
    lost = serializers.IntegerField(help_text="In the lost stage now.")
    win_rate = serializers.FloatField(allow_null=True,
                                      help_text="won / (won + lost); null when neither.")
    lost_reasons = ReasonCountSerializer(many=True, help_text="Most frequent first.")


class AttendantOutcomesSerializer(OutcomesSerializer):
    id = serializers.IntegerField(source="key", help_text="Membership id.")
    name = serializers.CharField(source="label")


class TeamOutcomesSerializer(OutcomesSerializer):
    team = serializers.SerializerMethodField(help_text="The team's slug; null for leads of no "
                                                       "team.")

    def get_team(self, row) -> str | None:
        return row.slug or None


class SourceOutcomesSerializer(OutcomesSerializer):
    source = serializers.CharField(source="key")
    received = serializers.IntegerField()


class FunnelSerializer(_FromField, serializers.Serializer):
    """The funnel of the leads received in the range: how far they got, and the outcomes."""

    to = serializers.DateField(source="range.end")
    team = serializers.SlugField(source="team.slug", allow_null=True)
    time_zone = serializers.CharField()
    leads_received = serializers.IntegerField()
    stages = FunnelStepSerializer(many=True, source="steps",
                                  help_text="The funnel's stages in order, lost left out.")
    won = serializers.IntegerField(source="overall.won")
    lost = serializers.IntegerField(source="overall.lost")
    win_rate = serializers.FloatField(source="overall.win_rate", allow_null=True,
                                      help_text="won / (won + lost); null when neither.")
    lost_reasons = ReasonCountSerializer(many=True, source="overall.lost_reasons")
    attendants = AttendantOutcomesSerializer(
        many=True, help_text="Each attendant holding won or lost leads of the range.")
    teams = TeamOutcomesSerializer(many=True, help_text="Each team with won or lost leads.")
    sources = SourceOutcomesSerializer(many=True, help_text="Each source with leads.")

    @property
    def from_field(self):
        return serializers.DateField(source="range.start")


class FunnelView(APIView):
    """The funnel on the managers' dashboard, as JSON."""

    @extend_schema(
        operation_id="reports_funnel",
        parameters=[RangeQuerySerializer],
        responses={
            200: FunnelSerializer,
            400: OpenApiResponse(description="A bad parameter, named: `from`/`to` not a date, "
                                             "`to` before `from`, a range over 366 days, or "
                                             "an unknown team."),
        },
        description=(
            "For the leads received (created) in the range, dates inclusive in the "
            "organization's time zone, optionally of one team: how many reached each stage "
            "and the conversion between stages, won and lost now with the win rate and the "
            "lost reasons, per attendant (who holds them), per team and per source."
        ),
    )
    def get(self, request):
        organization = request.user.organization
        query = RangeQuerySerializer(data=request.query_params,
                                     context={"organization": organization})
        query.is_valid(raise_exception=True)
        report = selectors.funnel(organization=organization,
                                  date_range=query.validated_data["date_range"],
                                  team=query.validated_data["team"])
        return Response(FunnelSerializer(report).data)
