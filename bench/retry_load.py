"""Retry load with a web worker killed: nothing lost, nothing duplicated (docs/security.md).

    .venv/bin/python -m bench.retry_load [--clients 50] [--leads 100] [--kills 3]

Not part of CI: it runs the real gunicorn (production settings, the production throttle
rates, PostgreSQL, Redis for the cache) on 127.0.0.1 and drives it with ``--clients`` threads,
each posting ``--leads`` new leads with an ``Idempotency-Key`` of its own and retrying every
one until it is acknowledged: after a dropped connection, a timeout or a 5xx with back-off,
after a 429 when its Retry-After says, and one in ten again after a success, as a client
whose answer was lost does. Meanwhile a gunicorn worker is killed (SIGKILL) ``--kills``
times, mid-request; gunicorn starts another.

Then it counts in the database: every key acknowledged has exactly one lead, the one the
client was told; no lead without a key acknowledged. Bounded: at most 60 tries per lead and
a 20-minute deadline, then it stops by itself.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from . import common
from .common import Result, log

MAX_TRIES = 60
DEADLINE = 20 * 60  # seconds for the whole run
# The production defaults (config/settings.py), not bench_env's "never refuse".
PRODUCTION_RATES = {"API_THROTTLE_INTAKE": "100/s", "API_THROTTLE_KEY": "20/s",
                    "API_THROTTLE_ADDRESS": "200/s"}


class Client(threading.Thread):
    def __init__(self, base: str, key: str, tag: str, index: int, leads: int, stop_at: float):
        super().__init__(daemon=True)
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.key, self.tag, self.index, self.leads, self.stop_at = key, tag, index, leads, stop_at
        self.seen: Counter[str] = Counter()  # answers and failures by kind
        self.acknowledged: dict[str, int] = {}  # idempotency key -> lead id
        self.mismatched: list[str] = []  # a retry answered with another lead than the first
        self.random = random.Random(index)

    def post(self, body: bytes, idem: str):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            connection.request("POST", "/api/v1/leads", body=body, headers={
                "Authorization": f"Api-Key {self.key}", "Content-Type": "application/json",
                "Idempotency-Key": idem,
            })
            response = connection.getresponse()
            return response.status, response.getheader("Retry-After"), response.read()
        finally:
            connection.close()

    def deliver(self, n: int) -> None:
        idem = f"{self.tag}-{self.index}-{n}"
        lead = common.lead_body(f"{self.tag}-{self.index}", n)
        del lead["external_id"]  # the Idempotency-Key alone must deduplicate
        body = json.dumps(lead).encode()
        repeat = self.random.random() < 0.1  # this client will also send it again after a 201
        delay = 0.05
        for _ in range(MAX_TRIES):
            if time.monotonic() > self.stop_at:
                self.seen["gave up (deadline)"] += 1
                return
            try:
                status, retry_after, answer = self.post(body, idem)
            except (OSError, http.client.HTTPException) as exc:
                self.seen[f"connection: {type(exc).__name__}"] += 1
                time.sleep(delay)
                delay = min(1.0, delay * 2)
                continue
            self.seen[str(status)] += 1
            if status in (200, 201):
                lead_id = json.loads(answer)["id"]
                first = self.acknowledged.setdefault(idem, lead_id)
                if first != lead_id:
                    self.mismatched.append(idem)
                if repeat:
                    repeat = False
                    continue  # the answer "was lost": send the same again
                return
            if status == 429:
                time.sleep(min(float(retry_after or 1), 5.0))
                continue
            time.sleep(delay)  # 5xx: back off and try again
            delay = min(1.0, delay * 2)
        self.seen["gave up (tries)"] += 1

    def run(self) -> None:
        for n in range(self.leads):
            self.deliver(n)


def workers_of(master: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True,
                         text=True).stdout
    return [int(pid) for pid in out.split()]


def killer(pidfile: Path, kills: int, every: float, done: threading.Event, log_kills: list):
    master = int(pidfile.read_text())
    for _ in range(kills):
        if done.wait(every):
            return
        workers = workers_of(master)
        if workers:
            victim = random.choice(workers)
            os.kill(victim, signal.SIGKILL)
            log_kills.append(victim)
            log(f"killed gunicorn worker {victim}")


def count_in_database(tag: str) -> dict[str, int]:
    conn = common.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT idempotency_key, array_agg(id) FROM leads_lead "
                "WHERE idempotency_key LIKE %s GROUP BY idempotency_key", [f"{tag}-%"])
            return {key: ids for key, ids in cur.fetchall()}
    finally:
        conn.close()


def main(argv=None) -> Result:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--leads", type=int, default=100, help="per client")
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--kill-every", type=float, default=4.0, help="seconds")
    args = parser.parse_args(argv)

    common.fresh_database()
    key = common.seed_demo()
    tag = "retry" + uuid.uuid4().hex[:8]
    result = Result("retry load, worker killed")
    with tempfile.TemporaryDirectory() as tmp:
        pidfile = Path(tmp) / "gunicorn.pid"
        env = common.bench_env(**PRODUCTION_RATES)
        with common.gunicorn(env=env, pidfile=pidfile, log_path=Path(tmp) / "gunicorn.log") \
                as base:
            stop_at = time.monotonic() + DEADLINE
            clients = [Client(base, key, tag, i, args.leads, stop_at)
                       for i in range(args.clients)]
            done, kills = threading.Event(), []
            chaos = threading.Thread(target=killer, args=(pidfile, args.kills,
                                                          args.kill_every, done, kills))
            started = time.monotonic()
            for client in clients:
                client.start()
            chaos.start()
            for client in clients:
                client.join(DEADLINE + 60)
            elapsed = time.monotonic() - started
            done.set()
            chaos.join(30)

    seen = sum((c.seen for c in clients), Counter())
    acknowledged = {k: v for c in clients for k, v in c.acknowledged.items()}
    mismatched = [k for c in clients for k in c.mismatched]
    stored = count_in_database(tag)
    expected = args.clients * args.leads
    lost = [k for k, lead_id in acknowledged.items() if stored.get(k) != [lead_id]]
    duplicated = [k for k, ids in stored.items() if len(ids) > 1]
    unacknowledged = [k for k in stored if k not in acknowledged]
    errors = seen["gave up (tries)"] + seen["gave up (deadline)"]

    result.add("leads sent (distinct Idempotency-Keys)", expected)
    result.add("acknowledged (200/201)", len(acknowledged))
    result.add("stored", len(stored))
    result.add("lost", len(lost), target="0", met=not lost)
    result.add("duplicated", len(duplicated) + len(mismatched), target="0",
               met=not duplicated and not mismatched)
    result.add("stored but never acknowledged", len(unacknowledged), target="0",
               met=not unacknowledged)
    result.add("given up", errors, target="0", met=errors == 0)
    result.add("workers killed", len(kills))
    result.add("requests", sum(seen.values()))
    for kind, count in sorted(seen.items()):
        result.add(f"  answered {kind}", count)
    result.add("elapsed", elapsed, "s")
    result.add("acknowledged per second", len(acknowledged) / elapsed, "leads/s")
    result.note(f"{args.clients} clients x {args.leads} leads, production throttle rates "
                f"({PRODUCTION_RATES['API_THROTTLE_INTAKE']} per key), {common.GUNICORN_WORKERS} "
                f"gunicorn workers; one in ten leads sent again after its 201.")
    return result


if __name__ == "__main__":
    print(main().markdown())
