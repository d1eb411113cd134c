"""A few days of past leads for the demo organization, so the dashboard has a story to tell.

Everything goes through the real services with explicit times, in the order it
happened: leads arrive (some at night, some on the weekend, when Vendas is closed),
most are opened within minutes, some late after overflowing to a colleague, some
never (they pass through every attendant), a few are created by hand. Opened leads move
through the funnel: some are qualified, some of those become opportunities, and leads
are won, lost (with a reason) or concluded without an outcome. The overflow is the
real sweep, run at the times the beat would have.
"""

from __future__ import annotations

import heapq
import logging
import random
import unicodedata
from datetime import datetime, time, timedelta

from django.db.models import F
from django.utils import timezone

from funnel.models import LostReason, Stage
from history.services import Actor
from leads.models import Lead
from leads.services import lead_conclude, lead_create, lead_mark_accessed, lead_stage_change
from leads.sweep import overflow_sweep
from teams.models import Organization, Team

DAYS = 7
EXTERNAL_PREFIX = "demo-history-"
FIRST_NAMES = ["Mariana", "João", "Beatriz", "Rafael", "Camila", "Lucas", "Juliana", "Pedro",
               "Larissa", "Gustavo", "Fernanda", "Thiago", "Patrícia", "Rodrigo", "Aline"]
LAST_NAMES = ["Oliveira", "Santos", "Pereira", "Costa", "Ferreira", "Almeida", "Ribeiro",
              "Carvalho", "Gomes", "Martins"]
CAMPAIGNS = ["google", "facebook", "site", "instagram"]
BUDGETS = [1500, 3000, 5000, 8000, 12000, 25000, 40000]
LOST_REASONS = [key for key, _name in LostReason.DEFAULTS]
# What becomes of each lead: opened within minutes, opened late (after overflowing),
# never opened (passed through everyone), created by hand and left alone.
FATES = [("quick", 55), ("late", 22), ("never", 13), ("manual", 10)]


def history_exists(organization: Organization) -> bool:
    return Lead.objects.for_org(organization).filter(
        external_id__startswith=EXTERNAL_PREFIX).exists()


def history_seed(*, organization: Organization, teams: dict[str, Team],
                 now: datetime | None = None, seed: int = 20261130) -> int:
    """Write the demo's past; returns how many leads. Does nothing if it was written before."""
    if history_exists(organization):
        return 0
    now = now or timezone.now()
    rng = random.Random(seed)
    tz = organization.tzinfo
    today = now.astimezone(tz).date()
    queue: list[tuple[datetime, int, str, dict]] = []
    counter = iter(range(10**6))

    def later(at: datetime, action: str, **args) -> None:
        if at < now:
            heapq.heappush(queue, (at, next(counter), action, args))

    # Arrivals: Vendas by day (it opens 08:00-18:00 on weekdays), Plantão around the clock.
    # The sweep runs when the beat would find a lead due: ten-minute steps after each
    # arrival (below), and after Vendas opens, for the leads left from the evening before.
    for offset in range(DAYS - 1, -1, -1):
        day = today - timedelta(days=offset)
        midnight = datetime.combine(day, time(0), tzinfo=tz)
        for slug, count, first_hour, last_hour in (("vendas", 7, 7, 19), ("plantao", 5, 0, 23)):
            for _n in range(count):
                at = midnight + timedelta(hours=rng.randint(first_hour, last_hour),
                                          minutes=rng.randint(0, 59))
                later(at, "create", team=slug, fate=_pick(rng), n=next(counter))
        for minutes in (10, 20, 30, 40):
            later(midnight + timedelta(hours=8, minutes=minutes, seconds=5), "sweep")

    created = []
    system = Actor.system()
    # The sweep logs each transfer; replaying days of them would bury seed_demo's output.
    sweep_log = logging.getLogger(overflow_sweep.__module__)
    level, sweep_log.level = sweep_log.level, logging.WARNING
    try:
        _replay(queue, later, organization, teams, rng, system, created)
    finally:
        sweep_log.setLevel(level)
    # The past needs no "new lead for you" e-mails (leads.notifications).
    Lead.objects.filter(pk__in=created).update(assignee_notified_at=F("assigned_at"))
    return len(created)


def _replay(queue, later, organization, teams, rng, system, created) -> None:
    """Run the planned actions in the order of their times."""
    while queue:
        at, _seq, action, args = heapq.heappop(queue)
        if action == "sweep":
            overflow_sweep(now=at)
        elif action == "create":
            lead = _create(organization, teams[args["team"]], args, at, rng, system)
            created.append(lead.pk)
            fate = args["fate"]
            for minutes in (10, 20, 30, 40):  # when the beat would find it due
                later(at + timedelta(minutes=minutes, seconds=2), "sweep")
            if fate == "quick":
                later(at + timedelta(minutes=rng.randint(1, 8)), "open", lead_id=lead.pk)
            elif fate == "late":
                later(at + timedelta(minutes=rng.randint(11, 26)), "open", lead_id=lead.pk)
        elif action == "open":
            lead = Lead.objects.for_org(organization).select_related("assignee").get(
                pk=args["lead_id"])
            if lead.assignee is None or lead.status != Lead.Status.OPEN:
                continue
            if lead_mark_accessed(organization=organization, lead_id=lead.pk,
                                  membership=lead.assignee, actor=system, now=at):
                _next_step(later, rng, at, lead.pk, (
                    (0.45, Stage.QUALIFIED), (0.15, Stage.LOST), (0.15, "")))
        elif action in (Stage.QUALIFIED, Stage.OPPORTUNITY):
            lead = _held(organization, args["lead_id"])
            if lead is not None:
                lead_stage_change(organization=organization, lead_id=lead.pk, stage=action,
                                  actor=Actor.for_user(lead.assignee.user),
                                  membership=lead.assignee, now=at)
                _next_step(later, rng, at, lead.pk, (
                    (0.6, Stage.OPPORTUNITY), (0.25, Stage.LOST)) if action == Stage.QUALIFIED
                    else ((0.55, Stage.CUSTOMER), (0.3, Stage.LOST)))
        elif action == "conclude":
            lead = _held(organization, args["lead_id"])
            if lead is not None:
                outcome = args.get("outcome", "")
                lead_conclude(
                    organization=organization, lead_id=lead.pk, membership=lead.assignee,
                    outcome=outcome, now=at,
                    lost_reason=rng.choice(LOST_REASONS) if outcome == Stage.LOST else "",
                )


def _held(organization, lead_id) -> Lead | None:
    """The lead, if someone holds it and it is still open."""
    lead = Lead.objects.for_org(organization).select_related("assignee__user").get(pk=lead_id)
    if lead.assignee is None or lead.status != Lead.Status.OPEN:
        return None
    return lead


def _next_step(later, rng, at, lead_id, chances) -> None:
    """What the attendant does next with a lead, a while later: each (chance, step) in turn;
    a step that is an outcome ("" for none) concludes the lead."""
    roll = rng.random()
    for chance, step in chances:
        if roll < chance:
            when = at + timedelta(minutes=rng.randint(10, 180))
            if step in (Stage.QUALIFIED, Stage.OPPORTUNITY):
                later(when, step, lead_id=lead_id)
            else:
                later(when, "conclude", lead_id=lead_id, outcome=step)
            return
        roll -= chance


def _pick(rng: random.Random) -> str:
    fates, weights = zip(*FATES, strict=True)
    return rng.choices(fates, weights=weights)[0]


def _ascii(name: str) -> str:
    return unicodedata.normalize("NFKD", name.lower()).encode("ascii", "ignore").decode()


def _create(organization, team, args, at, rng, actor) -> Lead:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    n = args["n"]
    data = {
        "name": f"{first} {last}",
        "email": f"{_ascii(first)}.{_ascii(last)}{n}@example.com",
        "phone": f"+55 11 9{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
        "external_id": f"{EXTERNAL_PREFIX}{n}",
        "custom": {"utm_source": rng.choice(CAMPAIGNS), "budget": rng.choice(BUDGETS)},
    }
    source = Lead.Source.MANUAL if args["fate"] == "manual" else Lead.Source.API
    lead, _created = lead_create(organization=organization, data=data, actor=actor,
                                 source=source, team=team, now=at)
    return lead
