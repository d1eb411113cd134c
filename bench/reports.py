"""Reports: the summary over a million stored leads, and the CSV export's memory.

    .venv/bin/python -m bench.reports [--leads 1000000] [--days 300] [--range-days 30]
                                      [--repeat 5] [--reuse]

(about 5 minutes at a million leads, most of it seeding; ``--reuse`` keeps a benchmark
database that already holds ``--leads`` leads of a previous run.)

Seeds ``--leads`` leads (bulk SQL, 10 teams of 10 attendants, one organization) spread
evenly over ``--days`` days up to now, each with the history its fate implies and,
when it was opened, its ``reports.LeadAccess`` row as the access services write it:

- 50% opened by their first attendant after 0–60 minutes;
- 20% opened, then concluded an hour later;
- 10% overflowed once, then opened by the second attendant;
- 10% overflowed once, then stopped with every attendant tried (lost to the rotation);
- 10% never opened.

With 1,000,000 leads over 300 days, the last 30 days hold 100,000 leads (and
~410,000 events). After ``VACUUM ANALYZE``:

1. **Summary latency**: ``GET /api/v1/reports/summary`` for the last ``--range-days``
   days through Django's whole request handler in this process (production settings),
   ``--repeat`` times; the first (cold) run and the median of the rest. Then the same
   with ``team=``. The ``EXPLAIN ANALYZE`` of every statement of one summary is printed;
   none may read a whole table (``Seq Scan`` on the leads, their history or the openings).
2. **Export memory**: ``GET /api/v1/leads/export`` of the same range (100,000 leads at the
   defaults), the streamed answer consumed chunk by chunk, in a fresh process: the growth of
   its peak RSS over the run, against another fresh process that loads the same leads as a
   list (what an export that is not streamed would hold at least).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import time
from datetime import datetime, timedelta
from datetime import time as dtime

from . import common
from .common import Result, log

TARGET_MS = 500
# A streamed export holds one chunk of rows (reports.exports.CHUNK_ROWS) whatever its size:
# its peak RSS growth stays under this at 10,000 leads as at 100,000.
FLAT_KIB = 32 * 1024
BIG_TABLES = ("leads_lead", "history_leadevent", "reports_leadaccess")

LEADS_SQL = """
INSERT INTO leads_lead (id, organization_id, team_id, name, email, phone, source, external_id,
    idempotency_key, custom, status, assignee_id, created_at, assigned_at, assignee_accessed_at,
    first_accessed_at, concluded_at, overflow_active, overflow_due_at, overflow_reason,
    transfer_count{extra_columns})
SELECT g, %(org)s, t.team, 'Lead ' || g, 'lead' || g || '@bench.example', '+55 11 9' || g,
       CASE WHEN g %% 20 = 0 THEN 'manual' ELSE 'api' END, 'rep-' || g, NULL, '{}'::jsonb,
       CASE WHEN t.kind IN (5, 6) THEN 'concluded' ELSE 'open' END,
       CASE WHEN t.kind IN (7, 8) THEN t.second ELSE t.first END,
       t.at,
       CASE WHEN t.kind IN (7, 8) THEN t.at + interval '10 minutes' ELSE t.at END,
       t.opened, t.opened,
       CASE WHEN t.kind IN (5, 6) THEN t.opened + interval '1 hour' END,
       false, NULL,
       CASE WHEN t.kind = 8 THEN 'all_tried' WHEN t.kind = 9 THEN 'disabled'
            WHEN t.kind IN (5, 6) THEN 'concluded' ELSE 'accessed' END,
       CASE WHEN t.kind IN (7, 8) THEN 1 ELSE 0 END{extra_values}
  FROM generate_series(%(first)s, %(last)s) g,
       LATERAL (
           SELECT s.*,
                  CASE WHEN s.kind IN (7, 8) THEN NULL
                       ELSE s.at + ((g::bigint * 7919) %% 3600) * interval '1 second' END AS opened0
             FROM (SELECT (g / 100) %% 10 AS kind,
                          (%(teams)s::bigint[])[1 + (g %% %(n_teams)s)] AS team,
                          (%(members)s::bigint[])[1 + (g %% %(n_teams)s) * %(size)s
                                                  + ((g / %(n_teams)s) %% %(size)s)] AS first,
                          (%(members)s::bigint[])[1 + (g %% %(n_teams)s) * %(size)s
                                                  + ((g / %(n_teams)s + 1) %% %(size)s)] AS second,
                          %(start)s::timestamptz
                            + (g - %(first_id)s) * %(step)s * interval '1 second' AS at) s
       ) t0,
       LATERAL (
           SELECT t0.*,
                  CASE WHEN t0.kind = 7
                       THEN t0.at + interval '10 minutes'
                            + ((g::bigint * 7919) %% 3600) * interval '1 second'
                       WHEN t0.kind IN (8, 9) THEN NULL
                       ELSE t0.opened0 END AS opened
       ) t
"""

# The history each kind implies: created, and assigned to the first attendant, for all;
# overflowed from the first to the second (kinds 7, 8); accessed + overflow_stopped(accessed)
# when opened; overflow_stopped(all_tried) for 8; concluded for 5 and 6.
EVENTS_SQL = """
INSERT INTO history_leadevent (organization_id, lead_id, type, actor_kind, actor_user_id,
    actor_api_key_id, from_member_id, to_member_id, reason, sequence, data, created_at
    {extra_columns})
SELECT l.organization_id, l.id, e.type, 'system', NULL::integer, NULL::bigint, e.from_member,
       e.to_member, e.reason, e.sequence, '{}'::jsonb, e.at{extra_values}
  FROM leads_lead l,
       LATERAL (SELECT (l.id / 100) %% 10 AS kind,
                       (%(members)s::bigint[])[1 + (l.id %% %(n_teams)s) * %(size)s
                                               + ((l.id / %(n_teams)s) %% %(size)s)] AS first
       ) k,
       LATERAL (VALUES
           ('created', NULL::bigint, NULL::bigint, '', NULL::integer, l.created_at, true),
           ('assigned', NULL, k.first, '', NULL, l.created_at, true),
           ('overflowed', k.first, l.assignee_id, '', 1, l.assigned_at, k.kind IN (7, 8)),
           ('accessed', NULL, l.assignee_id, '', NULL, l.first_accessed_at,
            l.first_accessed_at IS NOT NULL),
           ('overflow_stopped', NULL, l.assignee_id, 'accessed', NULL, l.first_accessed_at,
            l.first_accessed_at IS NOT NULL),
           ('overflow_stopped', NULL, l.assignee_id, 'all_tried', NULL,
            l.assigned_at + interval '10 minutes', k.kind = 8),
           ('concluded', NULL, NULL, '', NULL, l.concluded_at, l.concluded_at IS NOT NULL)
       ) AS e(type, from_member, to_member, reason, sequence, at, present)
 WHERE l.id BETWEEN %(first)s AND %(last)s AND e.present
"""

ACCESSES_SQL = """
INSERT INTO reports_leadaccess (organization_id, lead_id, lead_created_at, team_id, event_id,
    member_id, reached_at, accessed_at, wait_seconds, service_wait_seconds, is_first,
    lead_seconds, lead_service_seconds)
SELECT l.organization_id, l.id, l.created_at, l.team_id, e.id, e.to_member_id, l.assigned_at,
       e.created_at,
       extract(epoch FROM e.created_at - l.assigned_at)::int,
       extract(epoch FROM e.created_at - l.assigned_at)::int, true,
       extract(epoch FROM e.created_at - l.created_at)::int,
       extract(epoch FROM e.created_at - l.created_at)::int
  FROM leads_lead l JOIN history_leadevent e ON e.lead_id = l.id AND e.type = 'accessed'
 WHERE l.id BETWEEN %(first)s AND %(last)s
"""

def seed_history(org, *, leads: int, days: int, now, chunk: int = 100_000) -> None:
    """``leads`` leads evenly over the ``days`` days before ``now``, with their history."""
    from django.db import connection, transaction

    from bench.seed import EVENT_COLUMNS, LEAD_COLUMNS, _bump_sequences, _with_other_columns
    from history.models import LeadEvent
    from leads.models import Lead

    size = len(org.members[0])
    lead_sql = _with_other_columns(LEADS_SQL, Lead, LEAD_COLUMNS)
    event_sql = _with_other_columns(EVENTS_SQL, LeadEvent, EVENT_COLUMNS)
    step = days * 86400 / leads
    start = now - timedelta(days=days)
    first_id = 1
    for first in range(first_id, first_id + leads, chunk):
        last = min(first + chunk - 1, first_id + leads - 1)
        params = {
            "org": org.id, "first": first, "last": last, "first_id": first_id,
            "teams": org.team_ids, "n_teams": len(org.team_ids), "size": size,
            "members": [m for team in org.members for m in team],
            "start": start, "step": step,
        }
        t0 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(lead_sql, params)
            cur.execute(event_sql, params)
            cur.execute(ACCESSES_SQL, params)
        log(f"reports: leads {first:,}–{last:,} with history in {time.perf_counter() - t0:.1f}s")
    with connection.cursor() as cur:
        _bump_sequences(cur)
        cur.execute("SELECT setval(pg_get_serial_sequence('reports_leadaccess', 'id'), "
                    "(SELECT coalesce(max(id), 1) FROM reports_leadaccess))")


def vacuum_analyze() -> None:
    conn = common.connect(autocommit=True)
    try:
        with conn.cursor() as cur:
            for table in BIG_TABLES:
                cur.execute(f"VACUUM ANALYZE {table}")
    finally:
        conn.close()


def explain(statements) -> tuple[str, bool]:
    """EXPLAIN ANALYZE of each statement; and whether none reads a whole big table."""
    from django.db import connection

    plans = []
    whole = False
    with connection.cursor() as cur:
        for sql in statements:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)
            plan = "\n".join(row[0] for row in cur.fetchall())
            whole |= any(f"Seq Scan on {table}" in plan for table in BIG_TABLES)
            plans.append(sql + "\n\n" + plan)
    return "\n\n---\n\n".join(plans), not whole


def peak_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _get(client, url):
    t0 = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - t0
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}: {response.content[:500]!r}")
    return response, elapsed


def _client():
    """A client of the whole request handler, with a key of the benchmark organization."""
    from django.test import Client

    from teams.models import Organization
    from teams.services.keys import api_key_create

    organization = Organization.objects.get(slug="bench")
    _key, raw = api_key_create(organization=organization, name="bench")
    return organization, Client(HTTP_AUTHORIZATION=f"Api-Key {raw}", HTTP_HOST=common.HOST)


def _range(organization, range_days: int):
    from django.utils import timezone

    today = timezone.localdate(timezone.now(), organization.tzinfo)
    return today - timedelta(days=range_days - 1), today


def measure_export(how: str, range_days: int) -> dict:
    """In a process of its own (peak RSS only grows): the export of the range, consumed
    chunk by chunk (``streamed``), or the same leads loaded as a list (``list``)."""
    common.django_setup()
    from leads.models import Lead
    from reports.exports import lead_rows

    organization, client = _client()
    start, end = _range(organization, range_days)
    baseline = peak_rss_kib()
    t0 = time.perf_counter()
    if how == "streamed":
        response = client.get(f"/api/v1/leads/export?from={start}&to={end}")
        rows = size = 0
        for chunk in response.streaming_content:
            size += len(chunk)
            rows += chunk.count(b"\n")
        rows -= 1  # the header
    else:
        start_at = datetime.combine(start, dtime(0), tzinfo=organization.tzinfo)
        held = list(lead_rows(Lead.objects.filter(organization=organization,
                                                  created_at__gte=start_at)))
        rows, size = len(held), 0
    return {"rows": rows, "bytes": size, "seconds": time.perf_counter() - t0,
            "growth_kib": peak_rss_kib() - baseline}


def _export_in_child(how: str, range_days: int) -> dict:
    out = subprocess.run(
        [common.PYTHON, "-m", "bench.reports", "--measure-export", how,
         "--range-days", str(range_days)],
        cwd=common.REPO, env=common.bench_env(), check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _seeded(leads: int) -> bool:
    """Whether the benchmark database already holds this benchmark's leads (``--reuse``)."""
    try:
        conn = common.connect()
    except Exception:  # no database yet
        return False
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM leads_lead l JOIN teams_organization o "
                        "ON o.id = l.organization_id WHERE o.slug = 'bench'")
            return cur.fetchone()[0] == leads
    except Exception:  # no tables yet
        return False
    finally:
        conn.close()


def run(*, leads: int = 1_000_000, days: int = 300, range_days: int = 30, repeat: int = 5,
        reuse: bool = False) -> tuple[Result, dict]:
    result = Result("7 reports")
    if reuse and _seeded(leads):
        log(f"reports: reusing the {leads:,} leads already seeded")
        common.django_setup()
    else:
        common.fresh_database()
        common.django_setup()
        from django.utils import timezone

        from bench import seed

        org = seed.organization(teams=10)
        t0 = time.perf_counter()
        seed_history(org, leads=leads, days=days, now=timezone.now())
        vacuum_analyze()
        log(f"reports: seeded {leads:,} leads in {time.perf_counter() - t0:.0f}s")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    organization, client = _client()
    start, end = _range(organization, range_days)
    url = f"/api/v1/reports/summary?from={start}&to={end}"

    figures = {}
    for label, query in (("", ""), (", one team", "&team=team-0")):
        times = []
        for _ in range(repeat):
            response, elapsed = _get(client, url + query)
            times.append(elapsed)
        cold, warm = times[0], statistics.median(times[1:] or times)
        figures[label or "all"] = (cold, warm)
        received = response.json()["leads_received"]
        log(f"reports: summary{label}: {received:,} leads, first {cold * 1000:.0f} ms, "
            f"median {warm * 1000:.0f} ms")
        result.add(f"GET summary, {range_days} days{label} ({received:,} leads): first / "
                   f"median of {repeat - 1}", f"{cold * 1000:,.0f} / {warm * 1000:,.0f}", "ms",
                   f"< {TARGET_MS} ms", warm * 1000 < TARGET_MS)
    with CaptureQueriesContext(connection) as ctx:
        _get(client, url)
    statements = [q["sql"] for q in ctx.captured_queries
                  if q["sql"].lstrip().upper().startswith("SELECT")]
    plans, no_whole_scan = explain(statements)
    result.add("SQL statements of one summary (with the API key's)", len(ctx.captured_queries))
    result.add("no statement reads a whole table (Seq Scan)", "yes" if no_whole_scan else "no",
               target="yes", met=no_whole_scan)
    result.note(f"{leads:,} stored leads over {days} days (with ~4 history events each), "
                f"one organization, 10 teams of 10; the whole request handler in one process")

    streamed = _export_in_child("streamed", range_days)
    listed = _export_in_child("list", range_days)
    log(f"reports: export of {streamed['rows']:,} leads ({streamed['bytes'] / 2**20:.1f} MiB) "
        f"in {streamed['seconds']:.1f}s, peak RSS +{streamed['growth_kib'] / 1024:.1f} MiB; "
        f"as a list +{listed['growth_kib'] / 1024:.1f} MiB")
    flat = streamed["growth_kib"] < FLAT_KIB
    result.add(f"GET leads/export of {streamed['rows']:,} leads, streamed: peak RSS growth",
               streamed["growth_kib"] / 1024, "MiB", f"< {FLAT_KIB // 1024} MiB at any size", flat)
    result.add(f"the same {listed['rows']:,} leads loaded as a list: peak RSS growth",
               listed["growth_kib"] / 1024, "MiB")
    result.add("export time / size",
               f"{streamed['seconds']:.1f} s / {streamed['bytes'] / 2**20:.1f} MiB")
    return result, {"plans": plans, "summary": figures, "export": streamed, "list": listed}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=300)
    parser.add_argument("--range-days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reuse", action="store_true",
                        help="keep the benchmark database if it holds --leads leads already")
    parser.add_argument("--measure-export", choices=["streamed", "list"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure_export:
        print(json.dumps(measure_export(args.measure_export, args.range_days)))
        return
    result, figures = run(leads=args.leads, days=args.days, range_days=args.range_days,
                          repeat=args.repeat, reuse=args.reuse)
    print(result.markdown())
    print("\nEXPLAIN ANALYZE of the summary's statements:\n")
    print("```\n" + figures["plans"] + "\n```")


if __name__ == "__main__":
    main()
