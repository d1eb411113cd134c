"""Sweep cost as the table grows: 1,000 due leads among 10k, 100k and 1M stored leads.

    .venv/bin/python -m bench.sweep_growth [--sizes 10000,100000,1000000] [--due 1000]

Rule 9: the sweep costs in proportion to the leads that are due, not to all
leads stored. The table grows in place (most leads opened by their attendant or
concluded, each with its history); at each size, ``--repeat`` times, 1,000 fresh
due leads are added and one sweep (the Celery task's body) is timed. Prints the
median time per size, the ratio largest/smallest, and the ``EXPLAIN ANALYZE`` of
the sweep's claim query at the largest size, which must use the partial index
``lead_overflow_due``, not a sequential scan.
"""

from __future__ import annotations

import argparse
import statistics
import time

from . import common
from .common import Result, log

TARGET_RATIO = 1.5
ACCESSED_SHARE = 0.4  # the rest of the stored leads are concluded


def claim_plan(now) -> str:
    """EXPLAIN ANALYZE of the sweep's claim query, exactly as the sweep builds it."""
    from django.db import connection, transaction

    from leads.models import Lead
    from leads.sweep import SWEEP_BATCH_SIZE
    from teams.models import Organization

    qs = (
        Lead.objects.select_for_update(skip_locked=True)
        .filter(overflow_active=True, overflow_due_at__lte=now)
        .exclude(organization_id__in=Organization.objects.filter(
            suspended_at__isnull=False).order_by().values("pk"))
        .order_by("overflow_due_at", "id")[:SWEEP_BATCH_SIZE]
    )
    with transaction.atomic(), connection.cursor() as cur:
        sql, params = qs.query.sql_with_params()
        cur.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
        plan = "\n".join(row[0] for row in cur.fetchall())
        transaction.set_rollback(True)  # EXPLAIN ANALYZE took the row locks
    return plan


def run(*, sizes=(10_000, 100_000, 1_000_000), due: int = 1000, teams: int = 10,
        repeat: int = 3) -> tuple[Result, dict]:
    result = Result("4 sweep vs table size")
    common.fresh_database()
    common.django_setup()
    from django.utils import timezone

    from bench import seed
    from leads import tasks

    org = seed.organization(teams=teams)
    stored = 0
    medians: dict[int, float] = {}
    for size in sorted(sizes):
        grow = size - stored - due
        if grow > 0:
            t0 = time.perf_counter()
            now = timezone.now()
            accessed = int(grow * ACCESSED_SHARE)
            seed.leads(org, kind="accessed", count=accessed, now=now)
            seed.leads(org, kind="concluded", count=grow - accessed, now=now)
            seed.analyze()
            stored += grow
            log(f"growth: {stored:,} stored leads (+{grow:,} in {time.perf_counter() - t0:.1f}s)")
        times = []
        for _ in range(repeat):
            seed.leads(org, kind="due", count=due, now=timezone.now())
            seed.analyze()
            t0 = time.perf_counter()
            message = tasks.sweep()
            times.append(time.perf_counter() - t0)
            if message != f"transferred {due} leads":
                raise RuntimeError(f"expected {due} transfers, the sweep said {message!r}")
        medians[size] = statistics.median(times)
        log(f"growth: {size:,} stored: sweep of {due:,} due in {medians[size] * 1000:.0f} ms "
            f"(runs: {', '.join(f'{t * 1000:.0f}' for t in times)} ms)")
        result.add(f"sweep of {due:,} due among {size:,} stored", medians[size] * 1000, "ms",
                   digits=0)
    # The plan at the largest size, with a fresh set of due leads waiting.
    seed.leads(org, kind="due", count=due, now=timezone.now())
    seed.analyze()
    plan = claim_plan(timezone.now())
    uses_index = "lead_overflow_due" in plan and "Seq Scan on leads_lead" not in plan
    tasks.sweep()
    ratio = medians[max(sizes)] / medians[min(sizes)]
    result.add(f"ratio {max(sizes):,} / {min(sizes):,}", ratio, "x", f"<= {TARGET_RATIO}",
               ratio <= TARGET_RATIO, digits=2)
    result.add("claim query uses the partial index lead_overflow_due",
               "yes" if uses_index else "no", target="yes (no Seq Scan)", met=uses_index)
    result.note(f"median of {repeat} sweeps per size; stored leads {ACCESSED_SHARE:.0%} opened, "
                f"the rest concluded; {teams} teams of 10")
    return result, {"medians": medians, "ratio": ratio, "plan": plan}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    sizes = tuple(int(s) for s in args.sizes.split(","))
    result, figures = run(sizes=sizes, due=args.due, repeat=args.repeat)
    print(result.markdown())
    print("\nEXPLAIN ANALYZE of the claim query at the largest size:\n")
    print("```\n" + figures["plan"] + "\n```")


if __name__ == "__main__":
    main()
