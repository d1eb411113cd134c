"""Lateness: a real Celery worker and beat over leads falling due across a minute.

    .venv/bin/python -m bench.lateness [--leads 600] [--spread 60] [--interval 1]
                                       [--layout shared|own-queue|sweeper]

Seeds leads whose due times are spread evenly over ``--spread`` seconds, starts
``celery worker`` and ``celery beat`` (Redis broker, database 13,
``OVERFLOW_SWEEP_INTERVAL=--interval``) as separate processes, waits until every
lead has been transferred (bounded: the last due time plus 60 s), stops them,
and reports p50/p99/max of (transfer event time - due time). The event time is
the instant the sweep that moved the lead started.

``--layout``: ``shared`` puts the sweep on the default queue with everything else (the
layout before the sweep had a queue of its own, ``SWEEP_QUEUE=celery``); ``own-queue`` (the
default configuration) gives it the ``sweep`` queue, still consumed by the one worker;
``sweeper`` adds a worker of its own for it (``-Q sweep -c 1``) beside one of ``-Q celery``,
as docker-compose runs them. The first run of the e-mail task sends one e-mail per lead and
holds a worker process meanwhile: the burst the sweep's own queue is for.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import redis

from . import common
from .common import Result, log

LAYOUTS = ("shared", "own-queue", "sweeper")


def run(*, leads: int = 600, spread: float = 60, interval: float = 1.0,
        teams: int = 10, layout: str = "own-queue") -> tuple[Result, dict]:
    result = Result("5 lateness")
    common.fresh_database()
    common.django_setup()
    from django.utils import timezone

    from bench import seed

    org = seed.organization(teams=teams)
    redis.Redis.from_url(common.BENCH_BROKER_URL).flushdb()
    env = common.bench_env(OVERFLOW_SWEEP_INTERVAL=interval,
                           SWEEP_QUEUE="celery" if layout == "shared" else "sweep")
    celery = str(Path(common.PYTHON).parent / "celery")
    lead_up = 15.0  # seconds for worker and beat to start before the first lead falls due
    with tempfile.TemporaryDirectory() as tmp:
        now = timezone.now()
        seed.leads(org, kind="due", count=leads, now=now, due_span_s=spread,
                   due_from=now + timedelta(seconds=lead_up))
        last_due = now + timedelta(seconds=lead_up + spread)
        log(f"lateness: {leads} leads due over {spread:.0f}s from {lead_up:.0f}s on; "
            f"worker + beat every {interval}s")
        worker_args = [celery, "-A", "config", "worker", "-l", "warning", "-c", "2",
                       "--without-gossip", "--without-mingle", "-n", "bench@%h"]
        sweeper_args = None
        if layout == "sweeper":
            worker_args += ["-Q", "celery"]
            sweeper_args = [celery, "-A", "config", "worker", "-l", "warning", "-c", "1",
                            "--without-gossip", "--without-mingle", "-n", "sweeper@%h",
                            "-Q", "sweep"]
        beat_args = [celery, "-A", "config", "beat", "-l", "warning",
                     "-s", str(Path(tmp) / "beat-schedule"), "--pidfile="]
        logs = common.REPO / "var" / "bench"
        logs.mkdir(parents=True, exist_ok=True)
        with contextlib.ExitStack() as processes:
            processes.enter_context(common.started(
                worker_args, env=env, log_path=logs / "lateness-worker.log",
                name="celery worker"))
            if sweeper_args:
                processes.enter_context(common.started(
                    sweeper_args, env=env, log_path=logs / "lateness-sweeper.log",
                    name="celery sweeper"))
            processes.enter_context(common.started(
                beat_args, env=env, log_path=logs / "lateness-beat.log", name="celery beat"))
            deadline = last_due + timedelta(seconds=60)
            conn = common.connect(autocommit=True)
            with conn.cursor() as cur:
                while timezone.now() < deadline:
                    cur.execute("SELECT count(*) FROM leads_lead WHERE transfer_count = 0")
                    if cur.fetchone()[0] == 0:
                        break
                    time.sleep(0.5)
            conn.close()
            worker_log = (logs / "lateness-worker.log").read_text(errors="replace")
    conn = common.connect()
    with conn.cursor() as cur:
        cur.execute(
            """
            SELECT extract(epoch FROM e.created_at - (e.data->>'due_at')::timestamptz)
              FROM history_leadevent e WHERE e.type = 'overflowed'
            """
        )
        late = [float(r[0]) for r in cur.fetchall()]
        cur.execute("SELECT count(*) FROM leads_lead WHERE transfer_count <> 1")
        wrong = cur.fetchone()[0]
    conn.close()
    p50, p99 = common.percentile(late, 50), common.percentile(late, 99)
    target = interval + 1
    result.add("leads transferred exactly once", f"{len(late):,} of {leads:,}",
               target=f"{leads:,}", met=len(late) == leads and wrong == 0)
    result.add("lateness p50", p50, "s", digits=2)
    result.add("lateness p99", p99, "s", f"<= {target:g} s (interval + 1 s)", p99 <= target,
               digits=2)
    result.add("lateness max", max(late) if late else float("nan"), "s", digits=2)
    result.note(f"{leads} leads due evenly over {spread:.0f} s; celery worker -c 2 and beat, "
                f"Redis broker, OVERFLOW_SWEEP_INTERVAL={interval:g}, layout {layout}"
                + (" (+ a sweeper -Q sweep -c 1)" if layout == "sweeper" else ""))
    if "Traceback" in worker_log:
        result.note("the worker logged a traceback: see var/bench/lateness-worker.log")
    return result, {"p50": p50, "p99": p99}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=600)
    parser.add_argument("--spread", type=float, default=60)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--layout", choices=LAYOUTS, default="own-queue")
    args = parser.parse_args(argv)
    result, _ = run(leads=args.leads, spread=args.spread, interval=args.interval,
                    layout=args.layout)
    print(result.markdown())


if __name__ == "__main__":
    main()
