"""Every benchmark at a small size, one after the other; a Markdown table on stdout.

    bench/run_all            # about 11 minutes on 2 cores
    bench/run_all --quick    # shorter runs and 100k instead of 1M stored leads

Progress goes to stderr. Each benchmark starts from a fresh benchmark database
and stops every process it started.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import time

from . import (
    common,
    ingest,
    ingest_batch,
    ingest_cpu,
    latency,
    lateness,
    reports,
    step_load,
    sweep,
    sweep_growth,
)


def machine() -> str:
    mem_kb = int(next(line.split()[1] for line in open("/proc/meminfo")
                      if line.startswith("MemTotal")))
    pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} cores, {mem_kb / 2**20:.0f} GiB, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}, {pg}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    q = args.quick
    started = time.monotonic()
    results = []
    ingest_result, figures = ingest.run(duration=8 if q else 15, concurrency=8)
    results.append(ingest_result)
    results.append(ingest_cpu.run(requests=500 if q else 1000)[0])
    results.append(ingest_batch.run(duration=9 if q else 15)[0])
    results.append(latency.run(peak=figures["rate"], duration=8 if q else 15)[0])
    results.append(sweep.run(leads=10_000, repeat=1 if q else 2)[0])
    growth, growth_figures = sweep_growth.run(
        sizes=(10_000, 100_000) if q else (10_000, 100_000, 1_000_000), repeat=3)
    results.append(growth)
    results.append(lateness.run(leads=300 if q else 600, spread=30 if q else 60)[0])
    results.append(step_load.run(steps=(1, 2, 4, 8, 16, 32), duration=4 if q else 6)[0])
    report, report_figures = reports.run(leads=100_000 if q else 1_000_000)
    results.append(report)
    minutes = (time.monotonic() - started) / 60
    now = datetime.datetime.now(datetime.UTC)
    print(f"# Transbordo benchmarks, {now:%Y-%m-%d %H:%M} UTC\n")
    print(f"Machine: {machine()}. Run took {minutes:.1f} min"
          f"{' (--quick)' if q else ''}.\n")
    rows = [row for r in results for row in r.rows]
    print(common.md_table(rows, ["benchmark", "figure", "value", "target", "met"]))
    print()
    for r in results:
        for note in r.notes:
            print(f"- {r.name}: {note}")
    print("\nEXPLAIN ANALYZE of the sweep's claim query at the largest size:\n")
    print("```\n" + growth_figures["plan"] + "\n```")
    print("\nEXPLAIN ANALYZE of the reports summary's statements:\n")
    print("```\n" + report_figures["plans"] + "\n```")


if __name__ == "__main__":
    main()
