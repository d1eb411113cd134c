"""Sweep throughput: N due leads, one sweep through the Celery task's code, against raw SQL.

    .venv/bin/python -m bench.sweep [--leads 10000] [--teams 10]

Seeds N due leads (bulk SQL, teams of ten attendants, open around the clock,
each lead with its ``created`` and ``assigned`` events), then runs the body of
``leads.tasks.overflow_sweep`` once, as a Celery worker would, and reports
transfers/s. In the same run the leads are seeded again, identically, and a raw
psycopg2 loop makes the same transfers in batches of the same size: claim with
``FOR UPDATE SKIP LOCKED``, read who held each lead, pick the next attendant,
lock the batch's teams and read their round-robin cursors, give each lead to the
first member after its team's cursor who never held it (moving the cursor, as
rule 10 wants), update the leads, insert the ``overflowed`` events, write the
moved cursors and who was assigned last, commit. Both must end with the same
assignee for every lead.
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

from psycopg2.extras import Json, execute_values

from . import common
from .common import Result, log

TARGET_RATE = 2000
TARGET_RATIO = 0.50


def raw_sweep(*, now, batch_size: int, service_minutes: int = 10) -> int:
    """The same transfers with nothing but SQL and a dict of rotations."""
    conn = common.connect()
    cur = conn.cursor()
    cur.execute("SELECT team_id, id, membership_id FROM teams_teammember "
                "WHERE is_active ORDER BY team_id, \"order\", id")
    rotation: dict[int, list[tuple[int, int]]] = {}  # team: [(team member, membership)]
    for team_id, place, member_id in cur.fetchall():
        rotation.setdefault(team_id, []).append((place, member_id))
    conn.commit()
    due_next = now + timedelta(minutes=service_minutes)
    from history.models import LeadEvent

    written = {"organization_id", "lead_id", "type", "actor_kind", "from_member_id",
               "to_member_id", "sequence", "data", "created_at", "reason"}
    extra_columns, extra_values = common.other_columns(LeadEvent, written)
    extra_values = extra_values.replace("%", "%%")
    insert_events = (
        "INSERT INTO history_leadevent (organization_id, lead_id, type, actor_kind,"
        " from_member_id, to_member_id, sequence, data, created_at, reason"
        f"{extra_columns}) VALUES %s"
    )
    total = 0
    while True:
        cur.execute(
            """
            SELECT id, organization_id, team_id, assignee_id, transfer_count, overflow_due_at
              FROM leads_lead
             WHERE overflow_active AND overflow_due_at <= %s
             ORDER BY overflow_due_at, id
             LIMIT %s
               FOR UPDATE SKIP LOCKED
            """,
            [now, batch_size],
        )
        batch = cur.fetchall()
        if not batch:
            conn.commit()
            break
        cur.execute(
            "SELECT DISTINCT lead_id, to_member_id FROM history_leadevent "
            "WHERE lead_id = ANY(%s) AND to_member_id IS NOT NULL",
            [[row[0] for row in batch]],
        )
        held: dict[int, set[int]] = {}
        for lead_id, member_id in cur.fetchall():
            held.setdefault(lead_id, set()).add(member_id)
        cur.execute("SELECT id, rr_last_member_id FROM teams_team WHERE id = ANY(%s) "
                    "ORDER BY id FOR UPDATE", [sorted({row[2] for row in batch})])
        cursors = dict(cur.fetchall())
        moved_from = dict(cursors)
        updates, events, assigned = [], [], set()
        for lead_id, org_id, team_id, current, transfers, due in batch:
            places = rotation[team_id]
            at = next((i + 1 for i, (p, _m) in enumerate(places) if p == cursors[team_id]), 0)
            pick = next(
                (pm for pm in places[at:] + places[:at] if pm[1] not in held.get(lead_id, ())),
                None,
            )
            if pick is None:
                continue
            cursors[team_id], target = pick
            assigned.add(target)
            updates.append((lead_id, target, transfers + 1))
            events.append((
                org_id, lead_id, "overflowed", "system", current, target, transfers + 1,
                Json({"due_at": due.isoformat(), "team_id": team_id,
                      "service_minutes": service_minutes}),
                now,
            ))
        update = cur.mogrify(
            """
            UPDATE leads_lead AS l
               SET assignee_id = v.assignee, assigned_at = %s, assignee_accessed_at = NULL,
                   transfer_count = v.transfers, overflow_due_at = %s
              FROM (VALUES %%s) AS v(id, assignee, transfers)
             WHERE l.id = v.id
            """,
            [now, due_next],
        ).decode()
        execute_values(cur, update, updates, page_size=batch_size)
        execute_values(cur, insert_events, events,
                       template=f"(%s, %s, %s, %s, %s, %s, %s, %s, %s, ''{extra_values})",
                       page_size=batch_size)
        moved = [(team, place) for team, place in cursors.items() if place != moved_from[team]]
        if moved:
            execute_values(cur, "UPDATE teams_team AS t SET rr_last_member_id = v.place "
                                "FROM (VALUES %s) AS v(id, place) WHERE t.id = v.id", moved)
        if assigned:
            cur.execute("UPDATE teams_membership SET last_assigned_at = %s WHERE id = ANY(%s)",
                        [now, sorted(assigned)])
        conn.commit()
        total += len(updates)
    conn.close()
    return total


def _assignees() -> dict[int, tuple[int, int]]:
    conn = common.connect()
    with conn.cursor() as cur:
        cur.execute("SELECT id, assignee_id, transfer_count FROM leads_lead")
        rows = {lead_id: (a, n) for lead_id, a, n in cur.fetchall()}
        cur.execute("SELECT count(*), count(DISTINCT (lead_id, sequence)) FROM history_leadevent "
                    "WHERE type = 'overflowed'")
        events, distinct = cur.fetchone()
    conn.close()
    rows[-1] = (events, distinct)
    return rows


def run(*, leads: int = 10_000, teams: int = 10, repeat: int = 1) -> tuple[Result, dict]:
    result = Result("3 sweep")
    common.fresh_database()
    common.django_setup()
    from django.utils import timezone

    from bench import seed
    from leads import tasks
    from leads.sweep import SWEEP_BATCH_SIZE

    org = seed.organization(teams=teams)
    best_app = best_raw = None
    for attempt in range(repeat):
        seed.truncate_leads()
        now = timezone.now()
        seed.leads(org, kind="due", count=leads, now=now, due_span_s=300)
        seed.analyze()
        log(f"sweep: {leads:,} due leads in {teams} teams of 10; the Celery task's body")
        t0 = time.perf_counter()
        message = tasks.sweep()
        app_s = time.perf_counter() - t0
        after_app = _assignees()

        seed.truncate_leads()
        seed.leads(org, kind="due", count=leads, now=now, due_span_s=300)
        seed.analyze()
        log(f"sweep: raw SQL baseline, batches of {SWEEP_BATCH_SIZE}")
        t0 = time.perf_counter()
        raw_moved = raw_sweep(now=timezone.now(), batch_size=SWEEP_BATCH_SIZE)
        raw_s = time.perf_counter() - t0
        after_raw = _assignees()
        moved = int(message.split()[1])
        same = after_app == after_raw
        if best_app is None or app_s < best_app[0]:
            best_app = (app_s, moved, after_app[-1], same)
        if best_raw is None or raw_s < best_raw[0]:
            best_raw = (raw_s, raw_moved)
        log(f"sweep: attempt {attempt + 1}: app {moved / app_s:,.0f}/s, "
            f"raw {raw_moved / raw_s:,.0f}/s")
    app_s, moved, (events, distinct), same = best_app
    raw_s, raw_moved = best_raw
    rate, raw_rate = moved / app_s, raw_moved / raw_s
    result.add("transfers (one overflowed event each, none twice)",
               f"{moved:,} ({events:,} events, {distinct:,} distinct)", target=f"{leads:,}",
               met=moved == leads == events == distinct)
    result.add("sweep transfers/s", rate, "/s", f">= {TARGET_RATE:,}", rate >= TARGET_RATE, 0)
    result.add("raw SQL baseline transfers/s", raw_rate, "/s", digits=0)
    result.add("sweep / raw", rate / raw_rate * 100, "%", f">= {TARGET_RATIO:.0%}",
               rate / raw_rate >= TARGET_RATIO, 0)
    result.add("same assignee for every lead as the raw baseline", "yes" if same else "no",
               target="yes", met=same)
    result.note(f"{leads:,} due leads, {teams} teams of 10, batch {SWEEP_BATCH_SIZE}"
                + (f", best of {repeat}" if repeat > 1 else ""))
    return result, {"rate": rate, "raw_rate": raw_rate}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--teams", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=1, help="keep the best of this many")
    args = parser.parse_args(argv)
    result, _ = run(leads=args.leads, teams=args.teams, repeat=args.repeat)
    print(result.markdown())


if __name__ == "__main__":
    main()
