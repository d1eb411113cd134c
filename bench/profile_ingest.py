"""Where an ingest request spends its time: py-spy on the gunicorn workers under wrk load.

    .venv/bin/python -m bench.profile_ingest [--duration 15] [--concurrency 8] [--idle]

Samples every worker of a real gunicorn (as in ``bench.ingest``) while wrk posts
leads, then prints the share of samples per function: "self" is where the CPU
was, "total" counts a function with everything it called. ``--idle`` also counts
time spent waiting (on PostgreSQL's answers, mostly). Writes the raw collapsed
stacks to ``var/bench/`` (``flamegraph.pl`` or speedscope can draw them).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

from . import common
from .common import log
from .ingest import prepare, wrk_post

OUT_DIR = common.REPO / "var" / "bench"


def _py_spy() -> str:
    path = shutil.which("py-spy") or str(Path(common.PYTHON).parent / "py-spy")
    if not Path(path).exists():
        raise RuntimeError("py-spy is missing: pip install -e '.[bench]'")
    return path


def _gunicorn_master_pid(port: str) -> int:
    out = subprocess.run(["pgrep", "-f", f"gunicorn config.wsgi:application --bind {port}"],
                         capture_output=True, text=True).stdout.split()
    return min(int(p) for p in out)


def summarize(collapsed: Path, top: int = 25) -> str:
    """Share of samples per frame, from py-spy's collapsed ("raw") format."""
    self_counts: Counter[str] = Counter()
    total_counts: Counter[str] = Counter()
    samples = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        frames = [f.split(" (")[0] + " (" + f.split(" (")[-1].split(":")[0].split("/")[-1] + ")"
                  if " (" in f else f for f in stack.split(";")]
        samples += n
        self_counts[frames[-1]] += n
        for frame in set(frames):
            total_counts[frame] += n
    lines = [f"{samples} samples", "", "self%  function"]
    lines += [f"{n / samples:5.1%}  {f}" for f, n in self_counts.most_common(top)]
    lines += ["", "total%  function"]
    lines += [f"{n / samples:5.1%}  {f}" for f, n in total_counts.most_common(top * 2)]
    return "\n".join(lines)


def run(*, duration: float = 15, concurrency: int = 8, idle: bool = False) -> str:
    key = prepare()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    stamp = "idle" if idle else "cpu"
    collapsed = OUT_DIR / f"ingest-{stamp}.txt"
    with common.gunicorn() as url:
        pid = _gunicorn_master_pid(url.removeprefix("http://"))
        wrk_post(url, key, concurrency=concurrency, duration=2, tag=f"warm-{uuid.uuid4().hex[:6]}")
        load = threading.Thread(target=wrk_post, args=(url, key), kwargs={
            "concurrency": concurrency, "duration": duration + 2,
            "tag": f"prof-{uuid.uuid4().hex[:6]}"})
        load.start()
        time.sleep(1)
        args = [_py_spy(), "record", "--pid", str(pid), "--subprocesses", "--rate", "200",
                "--duration", str(int(duration)), "--nonblocking"]
        if idle:
            args.append("--idle")
        log(f"py-spy: sampling gunicorn {pid} and its workers for {duration}s")
        subprocess.run([*args, "--format", "raw", "--output", str(collapsed)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        load.join()
    report = summarize(collapsed)
    log(f"collapsed stacks: {collapsed}")
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--idle", action="store_true", help="count waiting time too")
    args = parser.parse_args(argv)
    print(run(duration=args.duration, concurrency=args.concurrency, idle=args.idle))


if __name__ == "__main__":
    main()
