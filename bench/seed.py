"""Bulk seeding for the sweep benchmarks: one organization, teams of ten, leads by SQL.

Leads and their history are written with ``INSERT ... SELECT generate_series``
in a handful of statements, so a million stored leads take seconds, not hours.
Every lead gets the history its state implies:

- due: open, overflowing, due in the past; ``created`` + ``assigned`` events;
- accessed: open, opened by its assignee, overflow stopped; + ``accessed``;
- concluded: closed, overflow stopped; + ``concluded``.

Call ``common.django_setup()`` before importing this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from bench.common import other_columns
from history.models import LeadEvent
from leads.models import Lead
from overflow.services import policy_save
from teams.models import Membership, Organization, Team, TeamMember


@dataclass
class Org:
    id: int
    team_ids: list[int]
    # members[i] is team i's rotation (membership ids in order).
    members: list[list[int]]


@transaction.atomic
def organization(*, teams: int, team_size: int = 10, service_minutes: int = 10) -> Org:
    org = Organization.objects.create(name="Bench", slug="bench", time_zone="America/Sao_Paulo")
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"bench-{t}-{i}", first_name=f"A{t}-{i}")
        for t in range(teams) for i in range(team_size)
    )
    memberships = Membership.objects.bulk_create(
        Membership(organization=org, user=u, presence=Membership.Presence.ONLINE) for u in users
    )
    team_ids, members = [], []
    for t in range(teams):
        team = Team.objects.create(organization=org, name=f"Team {t}", slug=f"team-{t}")
        mine = memberships[t * team_size:(t + 1) * team_size]
        TeamMember.objects.bulk_create(
            TeamMember(team=team, membership=m, order=i) for i, m in enumerate(mine)
        )
        policy_save(team=team, enabled=True, service_minutes=service_minutes)
        team_ids.append(team.pk)
        members.append([m.pk for m in mine])
    return Org(id=org.pk, team_ids=team_ids, members=members)


def _next_lead_id(cur) -> int:
    cur.execute("SELECT coalesce(max(id), 0) + 1 FROM leads_lead")
    return cur.fetchone()[0]


def _bump_sequences(cur) -> None:
    for table in ("leads_lead", "history_leadevent"):
        cur.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM {table}))"
        )


LEADS_SQL = """
INSERT INTO leads_lead (id, organization_id, team_id, name, email, phone, source, external_id,
    idempotency_key, custom, status, assignee_id, created_at, assigned_at, assignee_accessed_at,
    first_accessed_at, concluded_at, overflow_active, overflow_due_at, overflow_reason,
    transfer_count{extra_columns})
SELECT g, %(org)s, t.team, 'Lead ' || g, 'lead' || g || '@bench.example', '', 'api',
       %(prefix)s || '-' || g, NULL, '{}'::jsonb,
       CASE WHEN %(kind)s = 'concluded' THEN 'concluded' ELSE 'open' END,
       t.member, t.at, t.at,
       CASE WHEN %(kind)s = 'accessed' THEN t.at + interval '1 minute' END,
       CASE WHEN %(kind)s = 'accessed' THEN t.at + interval '1 minute' END,
       CASE WHEN %(kind)s = 'concluded' THEN t.at + interval '5 minutes' END,
       %(kind)s = 'due',
       CASE WHEN %(kind)s = 'due' THEN t.due END,
       CASE %(kind)s WHEN 'due' THEN '' WHEN 'accessed' THEN 'accessed' ELSE 'concluded' END,
       0{extra_values}
  FROM generate_series(%(first)s, %(last)s) g,
       LATERAL (
           SELECT (%(teams)s::bigint[])[1 + (g %% %(n_teams)s)] AS team,
                  (%(members)s::bigint[])[1 + (g %% %(n_teams)s) * %(size)s
                                          + ((g / %(n_teams)s) %% %(size)s)] AS member,
                  d.due,
                  CASE WHEN %(kind)s = 'due' THEN d.due - %(service)s * interval '1 minute'
                       ELSE %(created)s::timestamptz - (g %% 86400) * interval '1 second'
                  END AS at
             FROM (SELECT %(due_from)s::timestamptz
                          + (%(due_span)s * ((g - %(first)s)
                             / greatest(%(last)s - %(first)s, 1)::float))
                            * interval '1 second' AS due) d
       ) t
"""

# One row per (lead, event) for the events each kind of lead implies.
EVENTS_SQL = """
INSERT INTO history_leadevent (organization_id, lead_id, type, actor_kind, actor_user_id,
    actor_api_key_id, from_member_id, to_member_id, reason, sequence, data, created_at
    {extra_columns})
SELECT l.organization_id, l.id, e.type, 'system', NULL::integer, NULL::bigint, NULL::bigint,
       CASE WHEN e.type IN ('assigned', 'accessed') THEN l.assignee_id END,
       '', NULL::integer,
       CASE e.type WHEN 'created' THEN '{"source": "api"}'::jsonb
                   WHEN 'assigned' THEN jsonb_build_object('strategy', 'round_robin',
                                                            'team_id', l.team_id)
                   ELSE '{}'::jsonb END,
       l.created_at + e.after{extra_values}
  FROM leads_lead l
  JOIN (VALUES ('created', interval '0'), ('assigned', interval '0')) AS e(type, after) ON true
 WHERE l.id BETWEEN %(first)s AND %(last)s
UNION ALL
SELECT l.organization_id, l.id, CASE l.status WHEN 'concluded' THEN 'concluded'
                                             ELSE 'accessed' END,
       'system', NULL::integer, NULL::bigint, NULL::bigint,
       CASE WHEN l.status = 'open' THEN l.assignee_id END, '', NULL::integer, '{}'::jsonb,
       coalesce(l.concluded_at, l.first_accessed_at){extra_values}
  FROM leads_lead l
 WHERE l.id BETWEEN %(first)s AND %(last)s AND NOT l.overflow_active
"""


LEAD_COLUMNS = {
    "id", "organization_id", "team_id", "name", "email", "phone", "source", "external_id",
    "idempotency_key", "custom", "status", "assignee_id", "created_at", "assigned_at",
    "assignee_accessed_at", "first_accessed_at", "concluded_at", "overflow_active",
    "overflow_due_at", "overflow_reason", "transfer_count",
}
EVENT_COLUMNS = {
    "organization_id", "lead_id", "type", "actor_kind", "actor_user_id", "actor_api_key_id",
    "from_member_id", "to_member_id", "reason", "sequence", "data", "created_at",
}


def _with_other_columns(sql: str, model, written: set[str]) -> str:
    """Fields added to the model after this was written get their defaults."""
    columns, values = other_columns(model, written)
    # Literals may hold % (JSON): double them, the statement is run with parameters.
    return sql.replace("{extra_columns}", columns).replace(
        "{extra_values}", values.replace("%", "%%"))


def leads(org: Org, *, kind: str, count: int, now: datetime, due_span_s: float = 0.0,
          due_from: datetime | None = None, service_minutes: int = 10,
          prefix: str = "bench") -> tuple[int, int]:
    """Insert ``count`` leads of ``kind`` (due, accessed, concluded) spread over the teams.

    Due leads fall due evenly from ``due_from`` (default: ten minutes before ``now``)
    over ``due_span_s`` seconds. Returns the first and last lead id.
    """
    size = len(org.members[0])
    due_from = due_from or now - timedelta(minutes=10)
    with transaction.atomic(), connection.cursor() as cur:
        first = _next_lead_id(cur)
        last = first + count - 1
        params = {
            "org": org.id, "kind": kind, "first": first, "last": last,
            "teams": org.team_ids, "n_teams": len(org.team_ids), "size": size,
            "members": [m for team in org.members for m in team],
            "due_from": due_from, "due_span": due_span_s, "created": now - timedelta(days=1),
            "service": service_minutes, "prefix": prefix,
        }
        cur.execute(_with_other_columns(LEADS_SQL, Lead, LEAD_COLUMNS), params)
        cur.execute(_with_other_columns(EVENTS_SQL, LeadEvent, EVENT_COLUMNS),
                    {"first": first, "last": last})
        _bump_sequences(cur)
    return first, last


def analyze() -> None:
    with connection.cursor() as cur:
        cur.execute("ANALYZE leads_lead")
        cur.execute("ANALYZE history_leadevent")


def truncate_leads() -> None:
    """No leads, and every rotation back at its start, so two runs begin alike."""
    with connection.cursor() as cur:
        cur.execute("TRUNCATE history_leadevent, leads_lead RESTART IDENTITY CASCADE")
        cur.execute("UPDATE teams_team SET rr_last_member_id = NULL")
        cur.execute("UPDATE teams_membership SET last_assigned_at = NULL")
