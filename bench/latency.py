"""Latency at half load: POST /api/v1/leads at half the measured peak rate.

    .venv/bin/python -m bench.latency [--peak 200] [--duration 20]

Without ``--peak`` it first measures the peak as ``bench.ingest`` does (wrk, no
raw baseline). Then a rate-limited client (threads with keep-alive
``http.client`` connections, in this process, apart from the server's) sends
requests on a fixed schedule of ``peak / 2`` per second. Latency is measured
from each request's *scheduled* time, so a stalled server cannot hide its
queue behind a client that waits for it (no coordinated omission).
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import threading
import time
import uuid
from urllib.parse import urlsplit

from . import common
from .common import Result, log
from .ingest import leads_written, prepare, wrk_post

TARGET_P99_MS = 50.0


def paced_posts(url: str, key: str, *, rate: float, duration: float, tag: str,
                clients: int = 16) -> dict:
    """POST at ``rate`` per second for ``duration`` seconds; bounded by count and time."""
    host = urlsplit(url)
    total = int(rate * duration)
    ticket = itertools.count()
    lock = threading.Lock()
    start = time.perf_counter() + 0.5
    latencies: list[float] = []
    service: list[float] = []
    codes: dict[int, int] = {}
    errors: list[str] = []
    hard_stop = start + duration + 30

    def worker():
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
        while True:
            with lock:
                i = next(ticket)
            if i >= total or time.perf_counter() > hard_stop:
                break
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            body = json.dumps(common.lead_body(tag, i))
            sent = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/leads", body, {
                    "Content-Type": "application/json", "Authorization": f"Api-Key {key}"})
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                errors.append(repr(exc))
                conn.close()
                conn = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
                continue
            done = time.perf_counter()
            with lock:
                codes[status] = codes.get(status, 0) + 1
                latencies.append(done - scheduled)
                service.append(done - sent)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + 60)
    elapsed = time.perf_counter() - start
    return {"codes": codes, "errors": errors, "latencies": latencies, "service": service,
            "achieved": len(latencies) / elapsed, "sent": total}


def run(*, peak: float | None = None, duration: float = 20,
        concurrency: int = 8) -> tuple[Result, dict]:
    result = Result("2 latency at half load")
    key = prepare()
    with common.gunicorn() as url:
        wrk_post(url, key, concurrency=concurrency, duration=2, tag=f"warm-{uuid.uuid4().hex[:6]}")
        if peak is None:
            log(f"latency: measuring the peak (wrk, {concurrency} connections, 10 s)")
            tag = f"peak-{uuid.uuid4().hex[:6]}"
            wrk_post(url, key, concurrency=concurrency, duration=10, tag=tag)
            peak = leads_written(tag)["rate"]
        rate = peak / 2
        log(f"latency: {rate:.0f} leads/s (half of {peak:.0f}) for {duration}s")
        tag = f"half-{uuid.uuid4().hex[:6]}"
        data = paced_posts(url, key, rate=rate, duration=duration, tag=tag)
    lat = [x * 1000 for x in data["latencies"]]
    svc = [x * 1000 for x in data["service"]]
    created = data["codes"].get(201, 0)
    errors = len(data["errors"]) + sum(n for c, n in data["codes"].items() if c != 201)
    written = leads_written(tag)["leads"]
    p50, p99 = common.percentile(lat, 50), common.percentile(lat, 99)
    result.add("offered rate (half the peak) / achieved", f"{rate:.0f} / {data['achieved']:.0f}",
               "/s")
    result.add("latency p50 (from the scheduled send)", p50, "ms")
    result.add("latency p99 (from the scheduled send)", p99, "ms", f"< {TARGET_P99_MS:.0f} ms",
               p99 < TARGET_P99_MS)
    result.add("latency max", max(lat) if lat else float("nan"), "ms")
    result.add("errors; leads in DB vs 201s", f"{errors}; {written:,} vs {created:,}",
               target="0; equal", met=errors == 0 and written == created)
    result.note(f"service time alone (send to answer): p50 {common.percentile(svc, 50):.1f} ms, "
                f"p99 {common.percentile(svc, 99):.1f} ms")
    return result, {"p50": p50, "p99": p99, "rate": rate}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peak", type=float, help="peak leads/s (measured when omitted)")
    parser.add_argument("--duration", type=float, default=20)
    args = parser.parse_args(argv)
    result, _ = run(peak=args.peak, duration=args.duration)
    print(result.markdown())


if __name__ == "__main__":
    main()
