"""Step load: wrk at rising concurrency until p99 turns up; reports the knee.

    .venv/bin/python -m bench.step_load [--steps 1,2,4,8,16,32,64] [--duration 8]

One gunicorn (as in ``bench.ingest``), one wrk run per step. The knee is the
last step after which more connections no longer buy at least 10% more
leads/s: past it, the extra requests only wait in line and p99 climbs.
Steps stop early once p99 passes one second. gunicorn's workers each hold one
database connection, whatever the step, far below ``max_connections``.
"""

from __future__ import annotations

import argparse
import uuid

from . import common
from .common import Result, log
from .ingest import leads_written, prepare, wrk_post

GAIN = 1.10  # a step must add this much throughput to count as progress
P99_CEILING_MS = 1000


def run(*, steps=(1, 2, 4, 8, 16, 32, 64), duration: float = 8) -> tuple[Result, dict]:
    result = Result("6 step load")
    key = prepare()
    rows = []
    with common.gunicorn() as url:
        wrk_post(url, key, concurrency=4, duration=2, tag=f"warm-{uuid.uuid4().hex[:6]}")
        for c in steps:
            tag = f"step{c}-{uuid.uuid4().hex[:6]}"
            data = wrk_post(url, key, concurrency=c, duration=duration, tag=tag)
            lat = data["latency_us"]
            errors = sum(n for code, n in data["codes"].items() if code != 201)
            errors += sum(data["errors"].values())
            row = {"c": c, "rate": leads_written(tag)["rate"], "p50": lat["p50"] / 1000,
                   "p99": lat["p99"] / 1000, "errors": errors}
            rows.append(row)
            log(f"step: {c:3d} connections: {row['rate']:6.0f} leads/s, p50 {row['p50']:6.1f} "
                f"ms, p99 {row['p99']:7.1f} ms, errors {errors}")
            if row["p99"] > P99_CEILING_MS:
                break
    knee = rows[-1]
    for here, after in zip(rows, rows[1:], strict=False):
        if after["rate"] < here["rate"] * GAIN:
            knee = here
            break
    for row in rows:
        mark = "  <- knee" if row is knee else ""
        result.add(f"{row['c']} connections: leads/s, p50 / p99 ms, errors",
                   f"{row['rate']:.0f}/s, {row['p50']:.1f} / {row['p99']:.1f}, "
                   f"{row['errors']}{mark}")
    result.add("knee (last step that added >= 10% leads/s)",
               f"{knee['c']} connections, {knee['rate']:.0f} leads/s, p99 {knee['p99']:.1f} ms")
    result.note(f"gunicorn {common.GUNICORN_WORKERS} sync workers = "
                f"{common.GUNICORN_WORKERS * common.GUNICORN_THREADS} database connections "
                f"(max_connections {common.max_connections()}); {duration:.0f} s per step")
    return result, {"rows": rows, "knee": knee}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", default="1,2,4,8,16,32,64")
    parser.add_argument("--duration", type=float, default=8)
    args = parser.parse_args(argv)
    steps = tuple(int(s) for s in args.steps.split(","))
    result, _ = run(steps=steps, duration=args.duration)
    print(result.markdown())


if __name__ == "__main__":
    main()
