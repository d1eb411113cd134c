"""Where the sweep spends its time: pyinstrument around one sweep of N due leads.

    .venv/bin/python -m bench.profile_sweep [--leads 10000]

Seeds as ``bench.sweep`` does, runs the Celery task's body under pyinstrument
and prints the call tree; the time spent inside PostgreSQL shows under
``cursor.execute``. Also prints the statements per batch and their share of the time.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

from . import common


def run(*, leads: int = 10_000, teams: int = 10) -> str:
    common.fresh_database()
    common.django_setup()
    from django.db import connection
    from django.utils import timezone
    from pyinstrument import Profiler

    from bench import seed
    from leads import tasks

    org = seed.organization(teams=teams)
    seed.leads(org, kind="due", count=leads, now=timezone.now(), due_span_s=300)
    seed.analyze()
    spent: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])

    def timed(execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = " ".join(sql.split()[:3])[:60]
            spent[key][0] += 1
            spent[key][1] += time.perf_counter() - t0

    profiler = Profiler(interval=0.0005)
    t0 = time.perf_counter()
    with connection.execute_wrapper(timed):
        profiler.start()
        message = tasks.sweep()
        profiler.stop()
    total = time.perf_counter() - t0
    lines = [f"{message} in {total:.2f} s ({leads / total:,.0f}/s, under the profiler)", "",
             "statements (count, seconds inside PostgreSQL incl. round trip):"]
    for key, (n, s) in sorted(spent.items(), key=lambda kv: -kv[1][1]):
        lines.append(f"  {n:6d}  {s:7.3f} s  {key}")
    lines.append("")
    lines.append(profiler.output_text(unicode=False, color=False))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--teams", type=int, default=10)
    args = parser.parse_args(argv)
    print(run(leads=args.leads, teams=args.teams))


if __name__ == "__main__":
    main()
