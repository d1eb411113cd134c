"""Ingest: POST /api/v1/leads through the real server, against the raw database.

    .venv/bin/python -m bench.ingest [--duration 20] [--concurrency 8]

Starts gunicorn (production settings, PostgreSQL) and drives it with wrk from
its own process at a fixed concurrency for a fixed time, every request with a
new external_id. Then, in the same run and at the same concurrency, psycopg2
processes write the same rows straight into PostgreSQL (the lead, its
``created`` and ``assigned`` events, one transaction per lead): the raw
baseline. A second raw figure adds the team-row lock and cursor update that
round robin needs, the part of intake that is serial by design.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from . import common
from .common import Result, log

LUA = Path(__file__).with_name("post_lead.lua")
TARGET_RATIO = 0.40


def ensure_wrk() -> str:
    """Debian's wrk; installed on first use when this user may (CI and the dev box are root)."""
    path = shutil.which("wrk")
    if path:
        return path
    log("wrk is missing; installing Debian's package")
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False,
                   stdout=subprocess.DEVNULL)
    path = shutil.which("wrk")
    if not path:
        subprocess.run(["apt-get", "update", "-qq"], check=False, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True,
                       stdout=subprocess.DEVNULL)
        path = shutil.which("wrk")
    if not path:
        raise RuntimeError("wrk is not installed and could not be (apt-get install wrk)")
    return path


def wrk_post(url: str, key: str, *, concurrency: int, duration: float, tag: str) -> dict:
    """Run wrk; every thread has one connection and stops after its first answer past the
    deadline, so nothing is in flight at the end. Returns the Lua script's JSON."""
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "wrk.json"
        start = time.time()
        deadline = int(start + duration + 0.999)
        # wrk's own clock must outlast the deadline by more than any answer takes.
        wrk_seconds = int(deadline - start) + 4
        env = {"WRK_RESULTS": str(results), "PATH": "/usr/bin:/bin"}
        subprocess.run(
            [wrk, "-t", str(concurrency), "-c", str(concurrency), "-d", f"{wrk_seconds}s",
             "--timeout", "10s", "-s", str(LUA), url + "/api/v1/leads", "--",
             key, tag, str(deadline)],
            check=True, env=env, stdout=subprocess.DEVNULL,
        )
        data = json.loads(results.read_text())
    data["window_s"] = deadline - start
    data["codes"] = {int(k): v for k, v in data["codes"].items()}
    return data


def leads_written(tag: str) -> dict:
    """What the database holds for the run: leads, their arrival events, and the pace."""
    conn = common.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(
                """
                SELECT count(*), min(created_at), max(created_at),
                       count(*) FILTER (WHERE assignee_id IS NULL)
                  FROM leads_lead WHERE external_id LIKE %s
                """,
                [tag + "-%"],
            )
            n, first, last, unassigned = cur.fetchone()
            cur.execute(
                """
                SELECT count(*) FROM (
                    SELECT l.id FROM leads_lead l JOIN history_leadevent e ON e.lead_id = l.id
                     WHERE l.external_id LIKE %s AND e.type IN ('created', 'assigned')
                     GROUP BY l.id HAVING count(*) = 2) ok
                """,
                [tag + "-%"],
            )
            with_events = cur.fetchone()[0]
    finally:
        conn.close()
    span = (last - first).total_seconds() if n > 1 else 0.0
    return {"leads": n, "with_both_events": with_events, "unassigned": unassigned,
            "rate": (n - 1) / span if span else 0.0}


# --- the raw baseline ----------------------------------------------------------------

LEAD_SQL = """
INSERT INTO leads_lead (organization_id, team_id, name, email, phone, source, external_id,
    idempotency_key, custom, status, assignee_id, created_at, assigned_at, assignee_accessed_at,
    first_accessed_at, concluded_at, overflow_active, overflow_due_at, overflow_reason,
    transfer_count{extra_columns})
VALUES (%s, %s, %s, %s, %s, 'api', %s, NULL, %s, 'open', %s, %s, %s, NULL, NULL, NULL,
    true, %s + interval '10 minutes', '', 0{extra_values})
RETURNING id
"""
EVENTS_SQL = """
INSERT INTO history_leadevent (organization_id, lead_id, type, actor_kind, actor_user_id,
    actor_api_key_id, from_member_id, to_member_id, reason, sequence, data, created_at
    {extra_columns})
VALUES (%(org)s, %(lead)s, 'created', 'api_key', NULL, %(key)s, NULL, NULL, '', NULL,
        '{"source": "api"}', %(now)s{extra_values}),
       (%(org)s, %(lead)s, 'assigned', 'system', NULL, NULL, NULL, %(member)s, '', NULL,
        %(data)s, %(now)s{extra_values})
"""


def seed_columns(which: str) -> set[str]:
    from bench.seed import EVENT_COLUMNS, LEAD_COLUMNS

    return (LEAD_COLUMNS - {"id"}) if which == "lead" else EVENT_COLUMNS


def _with_other_columns(sql: str, label: str, written: set[str]) -> str:
    """Fields added to the model since this was written get their defaults."""
    from django.apps import apps

    columns, values = common.other_columns(apps.get_model(label), written | {"id"})
    return sql.replace("{extra_columns}", columns).replace(
        "{extra_values}", values.replace("%", "%%"))


def _raw_worker(args):
    """One client: one connection, one transaction per lead, until the shared end time."""
    ctx, wid, start_at, end_at, with_rr = args
    from datetime import UTC, datetime

    conn = common.connect()
    cur = conn.cursor()
    members = ctx["members"]
    latencies = []
    n = 0
    while time.time() < start_at:
        time.sleep(0.001)
    while True:
        t0 = time.perf_counter()
        if time.time() >= end_at:
            break
        now = datetime.now(UTC)
        ext = f"{ctx['tag']}-{wid}-{n}"
        if with_rr:
            cur.execute("SELECT id, rr_last_member_id FROM teams_team WHERE id = %s FOR UPDATE",
                        [ctx["team"]])
            cur.execute("SELECT id FROM teams_teammember WHERE team_id = %s AND is_active "
                        "ORDER BY \"order\", id", [ctx["team"]])
            cur.fetchall()
            cur.execute("UPDATE teams_team SET rr_last_member_id = %s WHERE id = %s",
                        [ctx["team_members"][n % len(members)], ctx["team"]])
        member = members[(wid + n) % len(members)]
        cur.execute(ctx["lead_sql"], [
            ctx["org"], ctx["team"], f"Bench {ext}", f"{ext}@bench.example",
            "+55 11 91234-5678", ext, json.dumps({"utm_source": "bench", "n": n}),
            member, now, now, now,
        ])
        lead_id = cur.fetchone()[0]
        cur.execute(ctx["events_sql"], {
            "org": ctx["org"], "lead": lead_id, "key": ctx["key"], "member": member,
            "now": now, "data": json.dumps({"strategy": "round_robin", "team_id": ctx["team"]}),
        })
        conn.commit()
        latencies.append(time.perf_counter() - t0)
        n += 1
    conn.close()
    return latencies


def raw_context() -> dict:
    """What each raw client needs: the demo organization's ids and the statements."""
    conn = common.connect()
    with conn.cursor() as cur:
        cur.execute("SELECT id, default_team_id FROM teams_organization WHERE slug = 'demo'")
        org, team = cur.fetchone()
        cur.execute("SELECT tm.membership_id, tm.id FROM teams_teammember tm "
                    "WHERE tm.team_id = %s ORDER BY tm.\"order\", tm.id", [team])
        rows = cur.fetchall()
        cur.execute("SELECT id FROM teams_apikey WHERE organization_id = %s LIMIT 1", [org])
        key = cur.fetchone()[0]
    conn.close()
    ctx = {"org": org, "team": team, "key": key, "members": [r[0] for r in rows],
           "team_members": [r[1] for r in rows], "tag": f"raw-{uuid.uuid4().hex[:8]}",
           "lead_sql": _with_other_columns(LEAD_SQL, "leads.Lead", seed_columns("lead")),
           "events_sql": _with_other_columns(EVENTS_SQL, "history.LeadEvent",
                                             seed_columns("event"))}
    return ctx


def raw_baseline(*, concurrency: int, duration: float, with_rr: bool = False) -> dict:
    ctx = raw_context()
    start_at = time.time() + 1.0
    end_at = start_at + duration
    with mp.get_context("fork").Pool(concurrency) as pool:
        parts = pool.map(
            _raw_worker, [(ctx, w, start_at, end_at, with_rr) for w in range(concurrency)]
        )
    latencies = [x for part in parts for x in part]
    written = leads_written(ctx["tag"])
    return {
        "count": len(latencies), "rate": len(latencies) / duration,
        "p50_ms": common.percentile(latencies, 50) * 1000,
        "p99_ms": common.percentile(latencies, 99) * 1000,
        "db_leads": written["leads"], "with_both_events": written["with_both_events"],
    }


# --- the benchmark -----------------------------------------------------------------------

STORED_LEADS = 20_000


def prepare(stored: int = STORED_LEADS) -> str:
    """A fresh database with the demo organization, ``stored`` earlier leads of it
    (opened or concluded, with their history) and fresh planner statistics; returns
    an API key. An empty, never analyzed table would make PostgreSQL plan the retry
    lookup as a scan of all the organization's leads until autovacuum runs.
    """
    common.fresh_database()
    key = common.seed_demo()
    common.django_setup()
    from django.utils import timezone

    from bench import seed
    from teams.models import Organization, TeamMember

    org = Organization.objects.get(slug="demo")
    teams = list(org.teams.order_by("id"))
    members = [list(TeamMember.objects.filter(team=t).order_by("order", "id")
                    .values_list("membership_id", flat=True)) for t in teams]
    demo = seed.Org(id=org.pk, team_ids=[t.pk for t in teams], members=members)
    now = timezone.now()
    seed.leads(demo, kind="accessed", count=stored // 2, now=now, prefix="old")
    seed.leads(demo, kind="concluded", count=stored - stored // 2, now=now, prefix="old")
    seed.analyze()
    from django.db import connections

    connections.close_all()
    return key



def run(*, duration: float = 20, concurrency: int = 8, raw: bool = True,
        rounds: int = 3) -> tuple[Result, dict]:
    """``rounds`` alternations of server, raw and raw-with-lock, ``duration / rounds``
    seconds each: on a shared machine, load from elsewhere then weighs on both sides
    of the ratio alike instead of on whichever ran during it."""
    result = Result("1 ingest")
    key = prepare()
    slice_s = duration / rounds
    log(f"ingest: gunicorn {common.GUNICORN_WORKERS}x{common.GUNICORN_THREADS}, wrk "
        f"{concurrency} connections; {rounds} rounds of {slice_s:.0f}s server / raw / raw+lock")
    app, base, base_rr = [], [], []
    with common.gunicorn() as url:
        wrk_post(url, key, concurrency=concurrency, duration=2, tag=f"warm-{uuid.uuid4().hex[:6]}")
        for _ in range(rounds):
            tag = f"wrk-{uuid.uuid4().hex[:8]}"
            data = wrk_post(url, key, concurrency=concurrency, duration=slice_s, tag=tag)
            app.append((data, leads_written(tag)))
            if raw:
                base.append(raw_baseline(concurrency=concurrency, duration=slice_s))
                base_rr.append(raw_baseline(concurrency=concurrency, duration=slice_s,
                                            with_rr=True))
    created = sum(d["codes"].get(201, 0) for d, _ in app)
    errors = sum(n for d, _ in app for code, n in d["codes"].items() if code != 201)
    errors += sum(sum(d["errors"].values()) for d, _ in app)
    db_leads = sum(w["leads"] for _, w in app)
    with_events = sum(w["with_both_events"] for _, w in app)
    rates = [w["rate"] for _, w in app]
    rate = sum(rates) / len(rates)

    def median_us(name):
        return sorted(d["latency_us"][name] for d, _ in app)[len(app) // 2] / 1000

    figures = {"rate": rate, "created": created, "errors": errors, "db_leads": db_leads,
               "p50_ms": median_us("p50"), "p95_ms": median_us("p95"),
               "p99_ms": median_us("p99"), "concurrency": concurrency}
    result.add("leads/s (server, from the leads' created_at)", rate, "/s")
    result.add("201 answers / other answers and socket errors", f"{created:,} / {errors}",
               target="0 errors", met=errors == 0)
    result.add("leads in DB (with created+assigned events) vs 201s",
               f"{db_leads:,} ({with_events:,}) vs {created:,}",
               target="equal", met=db_leads == created == with_events)
    result.add("latency p50 / p95 / p99 (median of the rounds)",
               f"{figures['p50_ms']:.1f} / {figures['p95_ms']:.1f} / {figures['p99_ms']:.1f}",
               "ms")
    if raw:
        raw_rate = sum(b["rate"] for b in base) / rounds
        raw_rr_rate = sum(b["rate"] for b in base_rr) / rounds
        ratio = rate / raw_rate
        figures.update(raw_rate=raw_rate, raw_rr_rate=raw_rr_rate, ratio=ratio)
        result.add("raw baseline leads/s (lead + 2 events, 1 tx/lead)", raw_rate, "/s")
        result.add("raw baseline + round-robin team lock and cursor update", raw_rr_rate, "/s")
        result.add("ingest / raw", ratio * 100, "%", f">= {TARGET_RATIO:.0%}",
                   ratio >= TARGET_RATIO, digits=0)
        # Issue 13's target: against the same writes with the lock fair round robin needs.
        with_lock = rate / raw_rr_rate
        figures.update(ratio_with_lock=with_lock)
        result.add("ingest / raw with round-robin lock", with_lock * 100, "%",
                   f">= {TARGET_RATIO:.0%}", with_lock >= TARGET_RATIO, digits=0)
        lost = sum(b["count"] - b["db_leads"] for b in base + base_rr)
        if lost:
            result.note(f"raw baseline: {lost} committed leads missing from the database")
        result.note("per round, leads/s server / raw / raw+lock: " + "; ".join(
            f"{r:.0f} / {b['rate']:.0f} / {br['rate']:.0f}"
            for r, b, br in zip(rates, base, base_rr, strict=True)))
    result.note(f"gunicorn {common.GUNICORN_WORKERS} sync workers x {common.GUNICORN_THREADS} "
                f"thread(s); wrk and the raw baseline at {concurrency} connections; {rounds} "
                f"rounds of {slice_s:.0f} s each; {STORED_LEADS:,} earlier leads in the table")
    return result, figures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--no-raw", action="store_true", help="skip the raw baseline")
    args = parser.parse_args(argv)
    result, _ = run(duration=args.duration, concurrency=args.concurrency, raw=not args.no_raw)
    print(result.markdown())


if __name__ == "__main__":
    main()
