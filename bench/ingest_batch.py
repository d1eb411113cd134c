"""Batch ingest: POST /api/v1/leads/batch through the real server, against the raw database.

    .venv/bin/python -m bench.ingest_batch [--duration 15] [--concurrency 2] [--size 500]

Starts gunicorn (production settings, PostgreSQL) and posts batches of ``size`` new leads
(each its own external_id, routed by the default team's round robin) from ``concurrency``
client threads for a while; then, in the same run and alternating with it, the raw
baseline of ``bench.ingest`` (psycopg2 processes writing the lead and its two events, one
transaction per lead) at its usual concurrency. Leads per second of both come from the
leads' ``created_at`` in the database. The target (issue 13): batch ingest at least 50 %
of the raw baseline per lead.
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
import uuid
from urllib.parse import urlsplit

from . import common
from .common import Result, log
from .ingest import STORED_LEADS, leads_written, prepare, raw_baseline

TARGET_RATIO = 0.50
RAW_CONCURRENCY = 8


def _bodies(tag: str, size: int, count: int) -> list[bytes]:
    """Request bodies made before the clock starts: the client's JSON is not measured."""
    return [json.dumps({"leads": [common.lead_body(tag, b * size + i) for i in range(size)]})
            .encode() for b in range(count)]


def post_batches(url: str, key: str, *, concurrency: int, duration: float, size: int,
                 tag: str) -> dict:
    bodies = _bodies(tag, size, count=max(4, int(duration * 3000 / size) + concurrency))
    parts = urlsplit(url)
    cursor = iter(range(len(bodies)))
    lock = threading.Lock()
    answers: dict[int, int] = {}
    item_codes: dict[int, int] = {}
    latencies: list[float] = []
    end_at = time.time() + duration

    def client():
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        headers = {"Authorization": f"Api-Key {key}", "Content-Type": "application/json"}
        while time.time() < end_at:
            with lock:
                n = next(cursor, None)
            if n is None:
                break
            t0 = time.perf_counter()
            conn.request("POST", "/api/v1/leads/batch", body=bodies[n], headers=headers)
            response = conn.getresponse()
            raw = response.read()
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                answers[response.status] = answers.get(response.status, 0) + 1
                if response.status == 200:
                    for result in json.loads(raw)["results"]:
                        item_codes[result["status"]] = item_codes.get(result["status"], 0) + 1
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"answers": answers, "items": item_codes, "latencies": latencies}


def run(*, duration: float = 15, concurrency: int = 2, size: int = 500,
        rounds: int = 3) -> tuple[Result, dict]:
    result = Result("1c batch ingest")
    key = prepare()
    slice_s = duration / rounds
    log(f"batch ingest: gunicorn {common.GUNICORN_WORKERS}x{common.GUNICORN_THREADS}, "
        f"{concurrency} clients posting {size} leads a request; {rounds} rounds of "
        f"{slice_s:.0f}s batch / raw")
    batch, base = [], []
    with common.gunicorn() as url:
        post_batches(url, key, concurrency=1, duration=1, size=50,
                     tag=f"warm-{uuid.uuid4().hex[:6]}")
        for _ in range(rounds):
            tag = f"batch-{uuid.uuid4().hex[:8]}"
            data = post_batches(url, key, concurrency=concurrency, duration=slice_s,
                                size=size, tag=tag)
            batch.append((data, leads_written(tag)))
            base.append(raw_baseline(concurrency=RAW_CONCURRENCY, duration=slice_s))
    rates = [w["rate"] for _, w in batch]
    rate = sum(rates) / len(rates)
    raw_rate = sum(b["rate"] for b in base) / rounds
    created = sum(d["items"].get(201, 0) for d, _ in batch)
    other = sum(n for d, _ in batch for code, n in d["items"].items() if code != 201)
    other += sum(n for d, _ in batch for code, n in d["answers"].items() if code != 200)
    db_leads = sum(w["leads"] for _, w in batch)
    with_events = sum(w["with_both_events"] for _, w in batch)
    latencies = [x for d, _ in batch for x in d["latencies"]]
    ratio = rate / raw_rate if raw_rate else 0.0
    figures = {"rate": rate, "raw_rate": raw_rate, "ratio": ratio, "created": created,
               "errors": other}
    result.add("leads/s through the batch endpoint (from the leads' created_at)", rate, "/s")
    result.add("items answered 201 / anything else", f"{created:,} / {other}",
               target="0 else", met=other == 0)
    result.add("leads in DB (with created+assigned events) vs 201s",
               f"{db_leads:,} ({with_events:,}) vs {created:,}",
               target="equal", met=db_leads == created == with_events)
    result.add(f"time per request of {size} leads, p50 / p99",
               f"{common.percentile(latencies, 50) * 1000:.0f} / "
               f"{common.percentile(latencies, 99) * 1000:.0f}", "ms")
    result.add("raw baseline leads/s (lead + 2 events, 1 tx/lead)", raw_rate, "/s")
    result.add("batch / raw, per lead", ratio * 100, "%", f">= {TARGET_RATIO:.0%}",
               ratio >= TARGET_RATIO, digits=0)
    result.note("per round, leads/s batch / raw: " + "; ".join(
        f"{r:.0f} / {b['rate']:.0f}" for r, b in zip(rates, base, strict=True)))
    result.note(f"gunicorn {common.GUNICORN_WORKERS} sync workers x {common.GUNICORN_THREADS} "
                f"thread(s); {concurrency} batch clients, raw at {RAW_CONCURRENCY} connections; "
                f"{rounds} rounds of {slice_s:.0f} s; {STORED_LEADS:,} earlier leads")
    return result, figures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--size", type=int, default=500)
    args = parser.parse_args(argv)
    print(run(duration=args.duration, concurrency=args.concurrency, size=args.size)[0]
          .markdown())


if __name__ == "__main__":
    main()
