"""Export memory: an organization's whole data as a ZIP, at growing sizes; peak RSS stays flat.

    .venv/bin/python -m bench.export [--sizes 10000,100000,1000000]

For each size: a fresh benchmark database with that many leads (about four history events
each, ``bench.reports.seed_history``), then ``manage.py export_org``'s writer in a process of
its own (peak RSS only grows), reporting rows, ZIP size, time and the peak RSS growth over
the process after Django's setup. Flat means the 1,000,000-lead export grows no more than the
10,000-lead one plus a few MiB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import tempfile
import time
from pathlib import Path

from . import common
from .common import Result, log

FLAT_KIB = 64 * 1024  # the growth allowed at any size


def measure() -> dict:
    """In a child process: export the benchmark organization to a temporary file."""
    common.django_setup()
    from ops.services.exports import export_write
    from teams.models import Organization

    organization = Organization.objects.get(slug="bench")
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "bench.zip"
        t0 = time.perf_counter()
        with open(target, "wb") as out:
            rows = export_write(organization=organization, out=out)
        seconds = time.perf_counter() - t0
        size = target.stat().st_size
    return {"rows": rows, "bytes": size, "seconds": seconds,
            "growth_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - baseline}


def _in_child() -> dict:
    out = subprocess.run([common.PYTHON, "-m", "bench.export", "--measure"], cwd=common.REPO,
                         env=common.bench_env(), check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(*, sizes=(10_000, 100_000, 1_000_000)) -> tuple[Result, dict]:
    from .reports import seed_history, vacuum_analyze

    result = Result("9 export memory")
    figures = {}
    for size in sizes:
        common.fresh_database()
        common.django_setup()
        from django.utils import timezone

        from bench import seed

        org = seed.organization(teams=10)
        t0 = time.perf_counter()
        seed_history(org, leads=size, days=300, now=timezone.now())
        vacuum_analyze()
        log(f"export: seeded {size:,} leads in {time.perf_counter() - t0:.0f}s")
        figures[size] = measured = _in_child()
        log(f"export: {size:,} leads: {measured['rows']:,} rows, "
            f"{measured['bytes'] / 2**20:.0f} MiB in {measured['seconds']:.0f}s, "
            f"peak RSS +{measured['growth_kib'] / 1024:.1f} MiB")
        result.add(f"export_org of {size:,} leads ({measured['rows']:,} rows, "
                   f"{measured['bytes'] / 2**20:.0f} MiB ZIP, {measured['seconds']:.0f} s): "
                   "peak RSS growth", measured["growth_kib"] / 1024, "MiB",
                   f"< {FLAT_KIB // 1024} MiB", measured["growth_kib"] < FLAT_KIB)
    result.note("one organization, 10 teams of 10, ~4 history events per lead; the export "
                "writer of manage.py export_org and of the managers' export task")
    return result, figures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure()))
        return
    result, _ = run(sizes=[int(s) for s in args.sizes.split(",")])
    print(result.markdown())


if __name__ == "__main__":
    main()
