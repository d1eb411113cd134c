"""Reads of the reports: the summary that the page, the API and the exports share.

Every figure is one definition of ``reports.definitions`` applied in SQL; a summary
costs the same fixed number of queries whatever the number of days or attendants.
On PostgreSQL the percentiles are ``percentile_cont`` aggregates; SQLite, the
embedded default, has none, so there they are worked out in Python from the values.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Aggregate, Count, FloatField, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from funnel.models import Stage
from funnel.selectors import funnel_of
from history.models import LeadEvent
from leads.models import Lead
from teams.models import Membership, Organization, Team

from . import definitions as d
from .models import LeadAccess


class PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)``."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


MEDIAN, P90 = 0.5, 0.9


@dataclass
class Day:
    date: date
    received: int = 0
    opened: int = 0
    overflowed: int = 0


@dataclass
class SourceCount:
    source: str
    received: int


@dataclass
class OriginCount:
    """Leads that came in by one lead source (an intake URL); ``origin`` None: by none."""

    origin: int | None
    name: str
    received: int


@dataclass
class FirstAccess:
    opened: int = 0
    never_opened: int = 0
    p50_seconds: float | None = None
    p90_seconds: float | None = None
    p50_service_seconds: float | None = None
    p90_service_seconds: float | None = None


@dataclass
class Overflow:
    leads_overflowed: int = 0
    rate: float | None = None
    transfers: int = 0
    all_tried: int = 0


@dataclass
class Attendant:
    id: int
    name: str
    received: int = 0
    opened: int = 0
    p50_seconds: float | None = None
    p90_seconds: float | None = None
    p50_service_seconds: float | None = None
    p90_service_seconds: float | None = None
    missed: int = 0
    concluded: int = 0
    open_now: int = 0

    @property
    def overflow_rate(self) -> float | None:
        return d.overflow_rate(self.missed, self.received)


@dataclass
class Queue:
    waiting_now: int = 0
    longest_wait_seconds: int | None = None


@dataclass
class Summary:
    organization: Organization
    range: d.DateRange
    team: Team | None
    leads_received: int = 0
    leads_by_day: list[Day] = field(default_factory=list)
    # Every source, and (team id or None, received) for the teams with leads.
    by_source: list[SourceCount] = field(default_factory=list)
    by_team: list[tuple[int | None, int]] = field(default_factory=list)
    # The lead sources that brought leads, most first, then the leads that came by none.
    by_origin: list[OriginCount] = field(default_factory=list)
    time_to_first_access: FirstAccess = field(default_factory=FirstAccess)
    overflow: Overflow = field(default_factory=Overflow)
    attendants: list[Attendant] = field(default_factory=list)
    queue: Queue = field(default_factory=Queue)

    @property
    def time_zone(self) -> str:
        return self.organization.time_zone

    @property
    def is_empty(self) -> bool:
        return self.leads_received == 0


def _percentiles(values: list[float]) -> tuple[float | None, float | None]:
    return d.percentile(values, MEDIAN), d.percentile(values, P90)


def _in_sql() -> bool:
    return connection.vendor == "postgresql"


def summary(*, organization: Organization, date_range: d.DateRange, team: Team | None = None,
            now: datetime | None = None) -> Summary:
    """Every figure of the dashboard for the leads received in ``date_range`` (and ``team``)."""
    now = now or timezone.now()
    tz = organization.tzinfo
    bounds = date_range.bounds(tz)
    population = d.received(organization, bounds, team=team)
    of_population = d.received(organization, bounds, team=team, through="lead__")
    result = Summary(organization=organization, range=date_range, team=team)

    # 1. Leads received, opened and overflowed, per day, source, team and lead source (few:
    #    a join reads their names); then what the attendants holding them now did with them.
    #    (Two small groupings: one grouping by all of it sorts every lead instead of hashing
    #    a few thousand groups.)
    days = {day: Day(date=day) for day in date_range.dates()}
    sources: dict[str, int] = dict.fromkeys(Lead.Source.values, 0)
    teams: dict[int | None, int] = defaultdict(int)
    origins: dict[tuple[int | None, str], int] = defaultdict(int)
    ids = []
    rows = (
        Lead.objects.for_org(organization).filter(population)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day", "source", "team_id", "origin_id", "origin__name")
        .annotate(received=Count("*"), opened=Count("id", filter=d.OPENED),
                  overflowed=Count("id", filter=d.OVERFLOWED), transfers=Sum("transfer_count"),
                  first_id=Min("id"), last_id=Max("id"))
        .order_by()
    )
    for row in rows:
        day = days[row["day"]]
        day.received += row["received"]
        day.opened += row["opened"]
        day.overflowed += row["overflowed"]
        sources[row["source"]] = sources.get(row["source"], 0) + row["received"]
        teams[row["team_id"]] += row["received"]
        origins[row["origin_id"], row["origin__name"] or ""] += row["received"]
        result.overflow.transfers += row["transfers"] or 0
        ids += [row["first_id"], row["last_id"]]
    people: dict[int, dict] = defaultdict(lambda: defaultdict(int))
    held = (
        Lead.objects.for_org(organization).filter(population, assignee__isnull=False)
        .values("assignee_id")
        .annotate(concluded=Count("id", filter=d.CONCLUDED), open_now=Count("id", filter=d.OPEN))
        .order_by()
    )
    for row in held:
        people[row["assignee_id"]].update(concluded=row["concluded"], open_now=row["open_now"])
    result.leads_by_day = list(days.values())
    result.leads_received = sum(day.received for day in result.leads_by_day)
    result.by_source = [SourceCount(source, n) for source, n in sources.items()]
    result.by_team = sorted(teams.items(), key=lambda item: -item[1])
    result.by_origin = sorted(
        (OriginCount(origin, name, n) for (origin, name), n in origins.items()),
        key=lambda c: (c.origin is None, -c.received, c.name))
    opened = sum(day.opened for day in result.leads_by_day)
    overflowed = sum(day.overflowed for day in result.leads_by_day)
    result.overflow.leads_overflowed = overflowed
    result.overflow.rate = d.overflow_rate(overflowed, result.leads_received)

    # 2. Time to first access, from the openings as measured when they happened: the lead's
    #    first, and each attendant's.
    # (The openings carry copies of the lead's created_at and team: no join with the leads.)
    openings = LeadAccess.objects.filter(
        organization=organization, lead_created_at__gte=bounds[0], lead_created_at__lt=bounds[1]
    )
    if team is not None:
        openings = openings.filter(team=team)
    first = result.time_to_first_access
    first.opened = opened
    first.never_opened = result.leads_received - opened
    firsts, by_member = _opening_figures(openings)
    (first.p50_seconds, first.p90_seconds,
     first.p50_service_seconds, first.p90_service_seconds) = firsts
    for member_id, figures in by_member.items():
        people[member_id].update(figures)

    # 3. Per attendant, from the history of the leads received: arrivals, misses, and the
    #    leads lost to the rotation.
    # The population's ids lie between its first and last (leads are numbered as they
    # arrive): saying so lets PostgreSQL read that stretch of the history index in order
    # instead of probing it once per lead. The join keeps the count exact.
    # (Grouped by the two people only, counting each kind apart: grouping by the type too
    # made PostgreSQL sort every event by its text.)
    events = (
        LeadEvent.objects.filter(of_population, lead_id__gte=min(ids, default=0),
                                 lead_id__lte=max(ids, default=0))
        .filter(d.ARRIVED | d.MISSED | d.LOST)
        .values("to_member_id", "from_member_id")
        .annotate(arrived=Count("lead_id", filter=d.ARRIVED),
                  missed=Count("lead_id", filter=d.MISSED),
                  lost=Count("lead_id", filter=d.LOST))
        .order_by()
    ) if ids else []
    for row in events:
        result.overflow.all_tried += row["lost"]
        if row["arrived"]:
            people[row["to_member_id"]]["received"] += row["arrived"]
        if row["missed"]:
            people[row["from_member_id"]]["missed"] += row["missed"]
    result.attendants = _attendants(organization, team, people)

    # 4. Now: the queue, whatever day its leads arrived.
    waiting = Lead.objects.for_org(organization).filter(d.WAITING_NOW)
    if team is not None:
        waiting = waiting.filter(team=team)
    queue = waiting.aggregate(n=Count("id"), oldest=Min("created_at"))
    result.queue = Queue(waiting_now=queue["n"],
                         longest_wait_seconds=d.wait_seconds_now(queue["oldest"], now))
    return result


def _opening_figures(openings: QuerySet) -> tuple[tuple, dict[int, dict]]:
    """Percentiles of the leads' first openings, and each attendant's openings with theirs."""
    if _in_sql():
        firsts = openings.filter(is_first=True).aggregate(
            p50=PercentileCont("lead_seconds", MEDIAN), p90=PercentileCont("lead_seconds", P90),
            p50s=PercentileCont("lead_service_seconds", MEDIAN),
            p90s=PercentileCont("lead_service_seconds", P90),
        )
        rows = openings.values("member_id").annotate(
            opened=Count("*"),
            p50_seconds=PercentileCont("wait_seconds", MEDIAN),
            p90_seconds=PercentileCont("wait_seconds", P90),
            p50_service_seconds=PercentileCont("service_wait_seconds", MEDIAN),
            p90_service_seconds=PercentileCont("service_wait_seconds", P90),
        ).order_by()
        return (
            (firsts["p50"], firsts["p90"], firsts["p50s"], firsts["p90s"]),
            {row.pop("member_id"): row for row in rows},
        )
    lead_waits: list[tuple[int, int]] = []
    waits: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for member_id, wall, service, is_first, lead_wall, lead_service in openings.values_list(
        "member_id", "wait_seconds", "service_wait_seconds", "is_first", "lead_seconds",
        "lead_service_seconds",
    ):
        waits[member_id].append((wall, service))
        if is_first:
            lead_waits.append((lead_wall, lead_service))
    by_member = {}
    for member_id, pairs in waits.items():
        p50, p90 = _percentiles([w for w, _s in pairs])
        p50s, p90s = _percentiles([s for _w, s in pairs])
        by_member[member_id] = {
            "opened": len(pairs), "p50_seconds": p50, "p90_seconds": p90,
            "p50_service_seconds": p50s, "p90_service_seconds": p90s,
        }
    return (
        (*_percentiles([w for w, _s in lead_waits]), *_percentiles([s for _w, s in lead_waits])),
        by_member,
    )


def _attendants(organization: Organization, team: Team | None,
                people: dict[int, dict]) -> list[Attendant]:
    """Everyone with a figure, and every active member of the team (or of any team) even
    with none, sorted by the leads that reached them."""
    members = Q(team_memberships__is_active=True, is_active=True)
    members &= Q(team_memberships__team=team) if team is not None else Q(
        team_memberships__team__is_archived=False)
    memberships = (
        Membership.objects.for_org(organization).filter(Q(pk__in=list(people)) | members)
        .select_related("user").distinct()
    )
    rows = {m.pk: Attendant(id=m.pk, name=m.display_name, **people.get(m.pk, {}))
            for m in memberships}
    return sorted(rows.values(), key=lambda a: (-a.received, a.name.lower(), a.id))


# --- an attendant's own numbers (top of their inbox) ------------------------------------------

OWN_NUMBERS_DAYS = 7


@dataclass
class OwnNumbers:
    days: int
    opened: int
    p50_seconds: float | None
    p50_service_seconds: float | None
    missed: int


def own_numbers(*, membership: Membership, now: datetime | None = None,
                days: int = OWN_NUMBERS_DAYS) -> OwnNumbers:
    """The person's own median time to open and missed leads, for the leads received in the
    last ``days`` days: their row of the dashboard, nobody else's. Two queries."""
    organization = membership.organization
    today = d.local_today(organization.tzinfo, now or timezone.now())
    date_range = d.DateRange(today - timedelta(days=days - 1), today)
    bounds = date_range.bounds(organization.tzinfo)
    openings = LeadAccess.objects.filter(
        member=membership, lead_created_at__gte=bounds[0], lead_created_at__lt=bounds[1]
    )
    pairs = list(openings.values_list("wait_seconds", "service_wait_seconds"))
    missed = (
        LeadEvent.objects.filter(d.received(organization, bounds, through="lead__"))
        .filter(d.MISSED, from_member=membership).count()
    )
    return OwnNumbers(
        days=days, opened=len(pairs),
        p50_seconds=d.percentile([w for w, _s in pairs], MEDIAN),
        p50_service_seconds=d.percentile([s for _w, s in pairs], MEDIAN),
        missed=missed,
    )


# --- conversion: the funnel -----------------------------------------------------------------


@dataclass
class FunnelStep:
    key: str
    label: str
    reached: int = 0
    # From the step before to this one; None on the first step or when none reached it.
    conversion: float | None = None


@dataclass
class ReasonCount:
    key: str
    name: str
    count: int


@dataclass
class Outcomes:
    """Won and lost leads of one attendant, team or source (or of all), with the reasons."""

    key: object
    label: str = ""
    slug: str = ""  # a team's
    # Leads received: all of a source's (and of the whole); an attendant and a team are
    # tallied over their won and lost leads only.
    received: int = 0
    won: int = 0
    lost: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # lost reason key: leads
    lost_reasons: list[ReasonCount] = field(default_factory=list)  # most frequent first

    @property
    def win_rate(self) -> float | None:
        return d.win_rate(self.won, self.lost)


@dataclass
class FunnelReport:
    organization: Organization
    range: d.DateRange
    team: Team | None
    leads_received: int = 0
    steps: list[FunnelStep] = field(default_factory=list)
    overall: Outcomes = field(default_factory=lambda: Outcomes(None))
    attendants: list[Outcomes] = field(default_factory=list)
    teams: list[Outcomes] = field(default_factory=list)
    sources: list[Outcomes] = field(default_factory=list)

    @property
    def time_zone(self) -> str:
        return self.organization.time_zone


def funnel(*, organization: Organization, date_range: d.DateRange,
           team: Team | None = None) -> FunnelReport:
    """How far the leads received in ``date_range`` (and ``team``) got in the funnel, and who
    won and lost them: two queries whatever the number of leads, people or days, and the
    names of the people and teams with an outcome (two more when there are any)."""
    tz = organization.tzinfo
    bounds = date_range.bounds(tz)
    population = d.received(organization, bounds, team=team)
    stages = funnel_of(organization=organization)
    report = FunnelReport(organization=organization, range=date_range, team=team)

    # 1. The leads received, by who holds them, their team and source, and their outcome now.
    people: dict[int, Outcomes] = {}
    teams: dict[int | None, Outcomes] = {}
    sources: dict[str, Outcomes] = {}
    rows = (
        Lead.objects.for_org(organization).filter(population)
        .values("assignee_id", "team_id", "source", "stage", "lost_reason")
        .annotate(n=Count("*")).order_by()
    )
    for row in rows:
        n, won, lost = row["n"], row["stage"] == Stage.CUSTOMER, row["stage"] == Stage.LOST
        groups = [report.overall, sources.setdefault(row["source"], Outcomes(row["source"]))]
        if won or lost:
            groups.append(teams.setdefault(row["team_id"], Outcomes(row["team_id"])))
            if row["assignee_id"] is not None:
                groups.append(people.setdefault(row["assignee_id"], Outcomes(row["assignee_id"])))
        for group in groups:
            group.received += n
            group.won += n if won else 0
            if lost:
                group.lost += n
                group.counts[row["lost_reason"]] = group.counts.get(row["lost_reason"], 0) + n
    report.leads_received = report.overall.received
    for group in (report.overall, *people.values(), *teams.values(), *sources.values()):
        group.lost_reasons = sorted(
            (ReasonCount(key, stages.reason_label(key), n) for key, n in group.counts.items()),
            key=lambda r: (-r.count, r.name.lower()),
        )

    # 2. How far they got: per step, the leads ever moved into it or past it.
    steps = list(stages.steps)
    counts = {}
    if len(steps) > 1:
        of_population = d.received(organization, bounds, team=team, through="lead__")
        counts = LeadEvent.objects.filter(of_population).filter(d.STAGE_CHANGES).aggregate(**{
            step.key: Count("lead_id", distinct=True, filter=d.reached(stages.at_or_past(step.key)))
            for step in steps[1:]
        })
    previous = None
    for step in steps:
        reached = report.leads_received if previous is None else counts.get(step.key) or 0
        report.steps.append(FunnelStep(
            key=step.key, label=step.label, reached=reached,
            conversion=None if previous is None else d.conversion(reached, previous),
        ))
        previous = reached

    # 3. Names: the people and teams with an outcome, and the sources.
    memberships = Membership.objects.for_org(organization).select_related("user").in_bulk(
        list(people))
    for member_id, row in people.items():
        row.label = memberships[member_id].display_name if member_id in memberships else "—"
    team_names = {pk: (name, slug) for pk, name, slug in Team.objects.for_org(organization)
                  .filter(pk__in=[pk for pk in teams if pk is not None])
                  .values_list("pk", "name", "slug")}
    for team_id, row in teams.items():
        row.label, row.slug = team_names.get(team_id, ("", ""))
    for key, row in sources.items():
        row.label = str(Lead.Source(key).label) if key in Lead.Source.values else key
    report.attendants = _by_outcome(people.values())
    report.teams = _by_outcome(teams.values())
    report.sources = sorted(sources.values(), key=lambda r: (-r.received, r.label.lower()))
    return report


def _by_outcome(rows) -> list[Outcomes]:
    """Most leads won first, then most with an outcome, then by name."""
    return sorted(rows, key=lambda r: (-r.won, -(r.won + r.lost), r.label.lower()))
